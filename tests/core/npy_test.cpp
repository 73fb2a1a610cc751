#include "gradcomp/core/npy.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "gradcomp/core/error.hpp"

namespace gradcomp {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / name).string();
}

TEST(Npy, RoundTripsFloatAndDouble) {
  const std::string path = temp_path("gradcomp_npy_roundtrip.npy");
  write_npy<float>(path, {1.5F, -2.0F, 3.25F, 0.0F, 5.0F, 6.0F}, {2, 3});
  const NpyArray a = read_npy(path);
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_FALSE(a.is_double());
  EXPECT_EQ(std::get<0>(a.data)[2], 3.25F);
  write_npy<double>(path, {0.1, 0.2}, {2});
  const NpyArray b = read_npy(path);
  EXPECT_TRUE(b.is_double());
  EXPECT_EQ(std::get<1>(b.data)[0], 0.1);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(Npy, NamesTheProblemWithBadFiles) {
  const std::string missing = temp_path("gradcomp_no_such_file.npy");
  try {
    read_npy(missing);
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_EQ(std::string(e.what()), "input file '" + missing +
                                         "' does not exist or is not a regular file; give a "
                                         "NumPy .npy file (np.save)");
  }
  const std::string text = temp_path("gradcomp_not_npy.npy");
  std::ofstream(text) << "hello, this is not numpy";
  EXPECT_THROW(read_npy(text), InvalidInput);

  const std::string truncated = temp_path("gradcomp_truncated.npy");
  write_npy<float>(truncated, {1, 2, 3, 4}, {4});
  std::filesystem::resize_file(truncated, std::filesystem::file_size(truncated) - 3);
  try {
    read_npy(truncated);
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("is truncated or padded"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gradcomp
