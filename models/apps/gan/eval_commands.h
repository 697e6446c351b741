#pragma once
// `gan eval` (every metric that applies to a checkpoint's data, as JSON) and `gan sample` (raw
// samples as a NumPy .npy array).
#include <CLI/CLI.hpp>

namespace ge::apps {

void add_eval_command(CLI::App& app);
void add_sample_command(CLI::App& app);

}  // namespace ge::apps
