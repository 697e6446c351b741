#pragma once
// `gan translate`: image files through a CycleGAN checkpoint's generator, one PNG per input.
#include <CLI/CLI.hpp>

namespace ge::apps {

void add_translate_command(CLI::App& app);

}  // namespace ge::apps
