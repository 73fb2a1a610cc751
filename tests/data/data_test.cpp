// Loaders, generators and partitions (data/): what they read, and the exact error for each kind
// of bad file (file name, line or offset, problem).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "gradcomp/core/error.hpp"
#include "gradcomp/core/npy.hpp"
#include "gradcomp/data/idx.hpp"
#include "gradcomp/data/partition.hpp"
#include "gradcomp/data/synthetic.hpp"
#include "gradcomp/data/text_formats.hpp"
#include "test_support.hpp"

namespace gradcomp {
namespace {

std::string temp_file(const std::string& name, const std::string& contents) {
  const auto path = testing::scratch_directory() / ("gradcomp_data_test_" + name);
  std::ofstream(path, std::ios::binary) << contents;
  return path.string();
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "no error";
}

std::string idx_bytes(std::uint8_t dims, std::vector<std::uint32_t> sizes,
                      std::vector<std::uint8_t> data) {
  std::string s{'\0', '\0', '\x08', static_cast<char>(dims)};
  for (const std::uint32_t v : sizes) {
    for (int shift = 24; shift >= 0; shift -= 8)
      s.push_back(static_cast<char>((v >> shift) & 0xFF));
  }
  s.append(data.begin(), data.end());
  return s;
}

TEST(Idx, ReadsImagesAndLabelsAndNamesEveryProblem) {
  const std::string images =
      temp_file("img", idx_bytes(3, {2, 2, 2}, {0, 255, 51, 102, 1, 2, 3, 4}));
  const std::string labels = temp_file("lab", idx_bytes(1, {2}, {3, 7}));
  const Dataset d = read_idx(images, labels);
  EXPECT_EQ(d.samples, 2U);
  EXPECT_EQ(d.features, 4U);
  EXPECT_EQ(d.shape, (std::vector<std::size_t>{1, 2, 2}));
  EXPECT_FLOAT_EQ(d.dense[1], 1.0F);
  EXPECT_FLOAT_EQ(d.dense[2], 0.2F);
  EXPECT_EQ(d.labels, (std::vector<float>{3, 7}));
  EXPECT_EQ(d.classes, 8U);

  const std::string truncated = temp_file("trunc", idx_bytes(3, {2, 2, 2}, {0, 1, 2}));
  EXPECT_EQ(error_of([&] { read_idx(truncated, labels); }),
            fmt::format("IDX file '{}' is truncated: the header promises 8 bytes of data after "
                        "offset 16, the file has 3",
                        truncated));
  EXPECT_EQ(error_of([&] { read_idx(labels, labels); }),
            fmt::format("IDX file '{}' has magic number 0x00000801 at offset 0, expected "
                        "0x00000803 (unsigned bytes, 3 dimensions)",
                        labels));
  const std::string three = temp_file("lab3", idx_bytes(1, {3}, {1, 2, 3}));
  EXPECT_EQ(error_of([&] { read_idx(images, three); }),
            fmt::format("IDX files '{}' (2 images) and '{}' (3 labels) disagree", images, three));
  EXPECT_EQ(error_of([&] { read_idx("/nonexistent/x.gz", labels); }),
            "IDX file '/nonexistent/x.gz' does not exist");
}

TEST(Idx, ReadsTheDebianFashionMnistGzipFiles) {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const Dataset test =
      read_idx(dir + "t10k-images-idx3-ubyte.gz", dir + "t10k-labels-idx1-ubyte.gz");
  EXPECT_EQ(test.samples, 10000U);
  EXPECT_EQ(test.features, 784U);
  EXPECT_EQ(test.classes, 10U);
}

TEST(Libsvm, ReadsSparseRowsAndMapsLabels) {
  const std::string path = temp_file("ok.svm", "+1 1:0.5 3:2\n# comment\n-1 2:1\n\n+1 4:-1.5\n");
  const Dataset d = read_libsvm(path);
  EXPECT_TRUE(d.sparse);
  EXPECT_EQ(d.samples, 3U);
  EXPECT_EQ(d.features, 4U);
  EXPECT_EQ(d.labels, (std::vector<float>{1, 0, 1}));  // −1 → class 0, +1 → class 1
  EXPECT_EQ(d.columns, (std::vector<std::uint32_t>{0, 2, 1, 3}));
  EXPECT_EQ(d.row_offsets, (std::vector<std::size_t>{0, 2, 3, 4}));
  const Dataset regression = read_libsvm(path, 10, LabelKind::kRegression);
  EXPECT_EQ(regression.features, 10U);
  EXPECT_EQ(regression.labels, (std::vector<float>{1, -1, 1}));
}

// Neural networks read dense rows: a sparse set becomes dense when it fits (the same values in
// their columns, zeros elsewhere, labels kept), and is refused with the sizes when it does not.
TEST(Libsvm, SparseRowsMadeDenseWithinTheMemoryLimit) {
  const std::string path = temp_file("dense.svm", "+1 1:0.5 3:2\n-1 2:1\n+1 4:-1.5\n");
  const Dataset dense = densified(read_libsvm(path), 48);  // 3 × 4 floats: exactly 48 bytes
  EXPECT_FALSE(dense.sparse);
  EXPECT_EQ(dense.dense, (std::vector<float>{0.5F, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, -1.5F}));
  EXPECT_EQ(dense.labels, (std::vector<float>{1, 0, 1}));
  EXPECT_EQ(dense.shape, (std::vector<std::size_t>{4}));
  EXPECT_NO_THROW(dense.check());
  EXPECT_EQ(
      error_of([&] { (void)densified(read_libsvm(path), 47); }),
      "'" + path +
          "' is sparse (3 samples, 4 features); neural networks read dense rows, which "
          "would take 4.8e-08 GB, more than the 4.7e-08 GB allowed (half this machine's "
          "memory); use a linear model (logistic, least-squares, softmax), which reads sparse "
          "rows, fewer samples (data.train_samples) or fewer features (data.features)");
}

TEST(Libsvm, NamesTheLineAndTheProblem) {
  const auto error = [](const std::string& name, const std::string& text,
                        std::size_t features = 0) {
    const std::string path = temp_file(name, text);
    return std::make_pair(path, error_of([&] { read_libsvm(path, features); }));
  };
  auto [a, ea] = error("order.svm", "1 1:1 2:1\n1 3:1 2:1\n");
  EXPECT_EQ(ea, a + ":2: feature index 2 after 3: indices must increase");
  auto [b, eb] = error("zero.svm", "1 0:1\n");
  EXPECT_EQ(eb,
            b + ":1: feature index 0 must be a whole number from 1 (LIBSVM indices are 1-based)");
  auto [c, ec] = error("range.svm", "1 1:1 9:2\n", 5);
  EXPECT_EQ(ec, c + ":1: feature index 9 is beyond the 5 features declared");
  // Indices past what a model can hold, or past 64 bits, or not whole: the line and the limit
  // (they were an out-of-memory exit and an internal error).
  auto [u, eu] = error("huge.svm", "1 1:1\n0 4294967295:1\n");
  EXPECT_EQ(eu, u + ":2: feature index 4294967295 is beyond the 4294967294 features a model can "
                    "have (its weights travel in messages of at most 2^32 − 1 elements); "
                    "renumber the features");
  auto [v, ev] = error("digits.svm", "1 99999999999999999999:1\n");
  EXPECT_EQ(ev, v + ":1: feature index 99999999999999999999 is beyond the 4294967294 features a "
                    "model can have (its weights travel in messages of at most 2^32 − 1 "
                    "elements); renumber the features");
  auto [w, ew] = error("fraction.svm", "1 2.5:1\n");
  EXPECT_EQ(ew,
            w + ":1: feature index 2.5 must be a whole number from 1 (LIBSVM indices are 1-based)");
  auto [e, ee] = error("pair.svm", "1 1:1 2\n");
  EXPECT_EQ(ee, e + ":1: '2' is not index:value");
  auto [f, ef] = error("label.svm", "1 1:1\nyes 1:2\n");
  EXPECT_EQ(ef, f + ":2: the label 'yes' is not a number");
  auto [g, eg] = error("real.svm", "1.5 1:1\n");
  EXPECT_EQ(eg, g + ":1: label 1.5 is not an integer class; for real targets use the regression "
                    "label kind");
}

TEST(Csv, HeaderWidthAndNumbers) {
  const std::string path = temp_file("ok.csv", "label,a,b\n1,0.5,2\n0,1,1\n");
  const Dataset d = read_csv(path);
  EXPECT_EQ(d.samples, 2U);
  EXPECT_EQ(d.features, 2U);
  EXPECT_EQ(d.dense, (std::vector<float>{0.5F, 2, 1, 1}));
  const std::string ragged = temp_file("ragged.csv", "1,2,3\n0,1\n");
  EXPECT_EQ(error_of([&] { read_csv(ragged); }), ragged + ":2: 1 features, the first sample has 2");
  const std::string bad = temp_file("bad.csv", "1,2,3\n0,x,1\n");
  EXPECT_EQ(error_of([&] { read_csv(bad); }), bad + ":2: field 2 'x' is not a number");
}

TEST(Npy, FeaturesAndLabelsFiles) {
  const auto dir = testing::scratch_directory();
  const std::string x = (dir / "gradcomp_x.npy").string();
  const std::string y = (dir / "gradcomp_y.npy").string();
  write_npy<float>(x, {1, 2, 3, 4, 5, 6}, {3, 2});
  write_npy<double>(y, {2, 0, 2}, {3});
  const Dataset d = read_npy_dataset(x, y);
  EXPECT_EQ(d.samples, 3U);
  EXPECT_EQ(d.features, 2U);
  EXPECT_EQ(d.labels, (std::vector<float>{1, 0, 1}));
  write_npy<double>(y, {2, 0}, {2});
  EXPECT_EQ(
      error_of([&] { read_npy_dataset(x, y); }),
      fmt::format("'{}' holds 2 values in shape (2); it needs one label per sample of '{}' (3)", y,
                  x));
}

TEST(Generators, ShapesSeedsAndErrors) {
  const Dataset a = generate_dataset("madelon:samples=200,features=40", 3);
  const Dataset b = generate_dataset("madelon:samples=200,features=40", 3);
  const Dataset c = generate_dataset("madelon:samples=200,features=40", 4);
  EXPECT_EQ(a.samples, 200U);
  EXPECT_EQ(a.features, 40U);
  EXPECT_EQ(a.classes, 2U);
  EXPECT_EQ(a.dense, b.dense);
  EXPECT_NE(a.dense, c.dense);
  const Dataset ls = generate_dataset("least-squares:samples=100,features=5,groups=4", 1);
  EXPECT_EQ(ls.classes, 0U);
  const Dataset lg = generate_dataset("logistic:samples=100,features=5,condition=1000", 1);
  EXPECT_EQ(lg.classes, 2U);
  EXPECT_EQ(error_of([] { generate_dataset("gisette", 1); }),
            "unknown data generator 'gisette'; generators: madelon, least-squares, logistic");
}

TEST(Partitions, CoverEverySampleOnceWithTheRequestedSkew) {
  const Dataset d =
      generate_dataset("madelon:samples=400,features=10,informative=3,redundant=2", 1);
  for (const std::string spec :
       {"iid", "contiguous", "label-skew:classes=1", "dirichlet:alpha=0.3"}) {
    const Shards shards = partition(d, 4, spec, 7);
    std::set<std::size_t> seen;
    std::size_t total = 0;
    for (const auto& s : shards) {
      total += s.size();
      seen.insert(s.begin(), s.end());
    }
    EXPECT_EQ(total, 400U) << spec;
    EXPECT_EQ(seen.size(), 400U) << spec;
  }
  EXPECT_EQ(partition(d, 4, "iid", 7)[0].size(), 100U);
  EXPECT_EQ(partition(d, 4, "contiguous", 7)[1].front(), 100U);
  // label-skew:classes=1 — every worker holds one class only.
  for (const auto& shard : partition(d, 4, "label-skew:classes=1", 7)) {
    std::set<float> classes;
    for (const std::size_t i : shard) classes.insert(d.labels[i]);
    EXPECT_EQ(classes.size(), 1U);
  }
  EXPECT_EQ(error_of([&] { partition(d, 4, "shuffle", 1); }),
            "unknown partition 'shuffle'; partitions: iid, contiguous, label-skew:classes=c, "
            "dirichlet:alpha=a");
  // More workers than samples is refused before anything is allocated per worker (a billion
  // workers once took minutes and 23 GB to reach an error).
  const std::string more = "500 workers but '" + d.name +
                           "' has 400 training samples; every worker needs at least one: choose "
                           "workers.n ≤ 400";
  EXPECT_EQ(error_of([&] { partition(d, 500, "contiguous", 1); }), more);
  EXPECT_EQ(error_of([&] { partition(d, 1'000'000'000, "iid", 1); }),
            "1000000000" + more.substr(3));
  EXPECT_EQ(error_of([&] { partition(d, 4, "label-skew:classes=20", 1); }),
            "partition label-skew:classes=20: 20 classes per worker, but '" + d.name +
                "' has 2 classes; choose classes ≤ 2");
}

}  // namespace
}  // namespace gradcomp
