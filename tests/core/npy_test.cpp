#include "gradcomp/core/npy.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "gradcomp/core/error.hpp"
#include "test_support.hpp"

namespace gradcomp {
namespace {

std::string temp_path(const std::string& name) {
  return (testing::scratch_directory() / name).string();
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

// A write that fails (the disk full: here a file-size limit, which fails the write the same way
// with EFBIG) raises IoError naming the file, keeps the previous complete file, and leaves no
// temporary beside it (a full disk used to leak checkpoint/rank-0.bin.tmp.PID).
TEST(WriteFileAtomically, AFailedWriteKeepsTheOldFileAndLeavesNoTemporary) {
  const std::string path = temp_path("gradcomp_atomic.txt");
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  write_file_atomically(path, "the previous contents\n");

  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  const auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string message;
  try {
    write_file_atomically(path, std::string(1 << 20, 'x'));
  } catch (const IoError& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous_handler);
  EXPECT_EQ(message.rfind("writing '" + path + "' failed: ", 0), 0U) << message;
  EXPECT_FALSE(std::filesystem::exists(temporary));
  std::ifstream in(path);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "the previous contents\n");

  // A rename that fails (the target is a folder) removes the temporary too.
  const std::string folder = temp_path("gradcomp_atomic_folder");
  std::filesystem::create_directories(folder + "/inside");
  EXPECT_THROW(write_file_atomically(folder, "text"), IoError);
  EXPECT_FALSE(std::filesystem::exists(folder + ".tmp." + std::to_string(::getpid())));
  std::filesystem::remove_all(folder);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace gradcomp
