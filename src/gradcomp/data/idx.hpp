#pragma once
// IDX files (the MNIST format; Fashion-MNIST from Debian's dataset-fashion-mnist), plain or gzip:
// a big-endian header (0, 0, type 0x08 = unsigned byte, number of dimensions, then each dimension
// as a 32-bit count) and the bytes. Images become floats in [0, 1].
#include <string>

#include "gradcomp/data/dataset.hpp"

namespace gradcomp {

// images: an idx3 file (count × rows × cols); labels: an idx1 file (count). InvalidInput naming the
// file, the offset and the problem for a wrong magic number, a count that disagrees, a label of
// 10 or more classes' worth, or a truncated file.
Dataset read_idx(const std::string& images, const std::string& labels);

}  // namespace gradcomp
