#pragma once
// One object for each element type the templated code runs in (float, double), picked by the
// type: a buffer kept between calls for whichever precision a run uses, with no branch at the
// call site. Compressors keep their encode scratch in one (TypedScratch), the exchange its
// decode and payload buffers.
#include <type_traits>
#include <vector>

namespace gradcomp {

template <template <class> class Holder>
class PerElementType {
 public:
  template <class T>
  Holder<T>& of() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                  "the element types are float and double");
    if constexpr (std::is_same_v<T, float>) {
      return floats_;
    } else {
      return doubles_;
    }
  }

 private:
  Holder<float> floats_;
  Holder<double> doubles_;
};

template <class T>
using VectorOf = std::vector<T>;
template <class T>
using VectorsOf = std::vector<std::vector<T>>;

// A vector for each element type: an encode that fills it allocates nothing once it has its
// size.
using TypedScratch = PerElementType<VectorOf>;

}  // namespace gradcomp
