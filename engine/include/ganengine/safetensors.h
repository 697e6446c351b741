#pragma once
// safetensors files (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length, a JSON header naming each tensor's dtype, shape and byte range, then the raw data.
// Files written here load with safetensors.torch.load_file; files PyTorch writes load here.
#include <cstddef>
#include <map>
#include <string>

#include "ganengine/tensor.h"

namespace ge {

// Reads every tensor of `path` into contiguous CPU float32 tensors. F32 is read as is; F64,
// F16, BF16, I64, I32, I16, I8, U8 and BOOL are converted to float32 (so a PyTorch state dict
// with BatchNorm's int64 num_batches_tracked loads; integers beyond 2^24 round, as a
// float32 cast would). Other dtypes (F8 variants, U16 and up) are refused. The
// "__metadata__" entry is not a tensor; load_safetensors_metadata returns it.
//
// A malformed file throws ge::Error naming the file and the defect: missing or unreadable file,
// a file shorter than its header, a header that is not JSON or not an object, an entry without
// dtype/shape/data_offsets, an unknown dtype, offsets out of the data region, overlapping byte
// ranges, or a byte range whose size disagrees with the shape. Gaps between ranges and trailing
// bytes are tolerated.
std::map<std::string, Tensor> load_safetensors(const std::string& path);

// load_safetensors of a file's bytes already in memory (`size` bytes at `data`), checked the same
// way; errors name `name` where load_safetensors names the path.
std::map<std::string, Tensor> load_safetensors_from_memory(const void* data, size_t size,
                                                           const std::string& name);

// The string-to-string "__metadata__" of `path` (empty when it has none), validated as
// load_safetensors validates the header.
std::map<std::string, std::string> load_safetensors_metadata(const std::string& path);

// Writes `tensors` (float32, any device: copied to the host, any strides) as F32, in name order,
// data 8-byte aligned, with `metadata` as "__metadata__". Atomic: the data goes to a temporary
// file in the same directory, is flushed to disk, then renamed over `path`; on any failure the
// temporary file is removed, an existing `path` is left untouched and ge::Error is thrown.
// Names must be non-empty and not "__metadata__"; tensors must be defined.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace ge
