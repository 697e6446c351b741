#pragma once
// The input and output files of the commands that map images to images (translate, upscale).
#include <filesystem>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "ganengine/error.h"
#include "ganengine/models/data/dataset.h"

namespace ge::apps {

// `in` itself when it is a file, else every image in the directory (sorted by name).
inline std::vector<std::string> input_files(const std::string& in) {
  std::error_code ec;
  if (std::filesystem::is_directory(in, ec)) return models::data::list_image_files(in);
  GE_CHECK(std::filesystem::exists(in, ec), "--in ", in, ": no such file or directory");
  return {in};
}

// OUT/<stem>.png for each input; two inputs of one stem would overwrite each other.
inline std::vector<std::string> output_files(const std::vector<std::string>& inputs,
                                             const std::string& out) {
  std::map<std::string, std::string> taken;
  std::vector<std::string> outputs;
  for (const std::string& input : inputs) {
    const std::string stem = std::filesystem::path(input).stem().string();
    const auto [it, fresh] = taken.emplace(stem, input);
    GE_CHECK(fresh, "--in: '", it->second, "' and '", input, "' would both be written to ", out,
             "/", stem, ".png");
    outputs.push_back((std::filesystem::path(out) / (stem + ".png")).string());
  }
  return outputs;
}

}  // namespace ge::apps
