# `cmake --install`: headers, the libraries, a CMake package (find_package(gradcomp) gives
# gradcomp::core, ::compress, ::comm, ::exchange, ::algo and, when built, the shared
# gradcomp::gradcomp) and gradcomp.pc for pkg-config. docs/library.md shows both in use.
include(CMakePackageConfigHelpers)

set(GRADCOMP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/gradcomp)
get_property(gradcomp_libraries GLOBAL PROPERTY GRADCOMP_LIBRARIES)
if(GRADCOMP_BUILD_SHARED)
  list(APPEND gradcomp_libraries gradcomp_shared)
endif()
install(TARGETS ${gradcomp_libraries} EXPORT gradcompTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT gradcompTargets NAMESPACE gradcomp:: DESTINATION ${GRADCOMP_CMAKE_DIR})

# The public headers: those of the five installed libraries, less the private ones: the per-target
# SIMD kernels (*-inl.hpp, which need Highway's headers), the bit-plane reader they pair with, and
# the registries' internal entry lists.
set(gradcomp_private_headers core/bit_planes.hpp compress/entries.hpp algo/entries.hpp)
if(NOT GRADCOMP_WITH_MPI)
  list(APPEND gradcomp_private_headers comm/mpi_communicator.hpp comm/mpi_session.hpp)
endif()
list(TRANSFORM gradcomp_private_headers PREPEND "${PROJECT_SOURCE_DIR}/src/gradcomp/")
foreach(box core compress comm exchange algo)
  file(GLOB box_headers CONFIGURE_DEPENDS
    ${PROJECT_SOURCE_DIR}/src/gradcomp/${box}/*.hpp ${PROJECT_SOURCE_DIR}/src/gradcomp/${box}/*.inl)
  list(FILTER box_headers EXCLUDE REGEX "-inl\\.hpp$")
  list(REMOVE_ITEM box_headers ${gradcomp_private_headers})
  install(FILES ${box_headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/gradcomp/${box})
endforeach()

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/gradcompConfig.cmake.in
  ${PROJECT_BINARY_DIR}/gradcompConfig.cmake INSTALL_DESTINATION ${GRADCOMP_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/gradcompConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/gradcompConfig.cmake
  ${PROJECT_BINARY_DIR}/gradcompConfigVersion.cmake DESTINATION ${GRADCOMP_CMAKE_DIR})

# pkg-config describes the shared library (static linking is the CMake package's job).
if(GRADCOMP_BUILD_SHARED)
  set(GRADCOMP_PC_REQUIRES "fmt")
  set(GRADCOMP_PC_CFLAGS "-std=c++20")
  if(GRADCOMP_WITH_MPI)
    string(APPEND GRADCOMP_PC_REQUIRES " ompi-c")
    string(APPEND GRADCOMP_PC_CFLAGS " -DOMPI_SKIP_MPICXX=1 -DMPICH_SKIP_MPICXX=1")
  endif()
  # The prefix relative to the .pc file, so that an installed tree can be moved.
  file(RELATIVE_PATH GRADCOMP_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
  string(REGEX REPLACE "/$" "" GRADCOMP_PC_TO_PREFIX "${GRADCOMP_PC_TO_PREFIX}")
  configure_file(${CMAKE_CURRENT_LIST_DIR}/gradcomp.pc.in ${PROJECT_BINARY_DIR}/gradcomp.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/gradcomp.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()
