#pragma once
// One function per compressor file, each returning that compressor's registry entry.
#include "gradcomp/compress/registry.hpp"

namespace gradcomp {

CompressorEntry identity_entry();
CompressorEntry fp16_entry();
CompressorEntry scale_entry();
CompressorEntry topk_entry();
CompressorEntry randk_entry();
CompressorEntry rbgs_entry();
CompressorEntry threshold_entry();
CompressorEntry scaled_sign_entry();
CompressorEntry block_sign_entry();
CompressorEntry sign_entry();
CompressorEntry qsgd_entry();
CompressorEntry terngrad_entry();
CompressorEntry sketch_entry();
CompressorEntry rounding_entry();
CompressorEntry powersgd_entry();

}  // namespace gradcomp
