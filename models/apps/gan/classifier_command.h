#pragma once
// `gan classifier train|eval`: the MNIST classifier the sample-quality metrics read with.
#include <CLI/CLI.hpp>

namespace ge::apps {

// Adds the `classifier` subcommand (with `train` and `eval`) to `app`.
void add_classifier_command(CLI::App& app);

}  // namespace ge::apps
