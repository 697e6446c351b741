#pragma once
// `gan augment`: a conditional GAN as data augmentation for a classifier trained on few digits.
#include <CLI/CLI.hpp>

namespace ge::apps {

// Adds the `augment` subcommand to `app`.
void add_augment_command(CLI::App& app);

}  // namespace ge::apps
