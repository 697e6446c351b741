#pragma once
// `gan sr-crops`: one region of a photograph side by side as bicubic and each super-resolution
// checkpoint enlarge it from the same low-resolution input, beside the original.
#include <CLI/CLI.hpp>

namespace ge::apps {

void add_sr_crops_command(CLI::App& app);

}  // namespace ge::apps
