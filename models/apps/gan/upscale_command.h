#pragma once
// `gan upscale`: image files through a super-resolution checkpoint's generator, x4.
#include <CLI/CLI.hpp>

namespace ge::apps {

void add_upscale_command(CLI::App& app);

}  // namespace ge::apps
