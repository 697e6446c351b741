#pragma once
// The checkpoint pair of a training directory: checkpoint.safetensors holds the tensors (each
// network's state dict under its name, e.g. G., D., G_ema., G_AB.; the Adam moments of each
// optimizer group, opt.<group>.exp_avg.<i>, ...; the model's extra state, state.<key>),
// checkpoint.json everything else and the tensor file's size and FNV-1a checksum, so a torn or
// mixed pair is refused. Version 1 files (one G/D pair, one loader) still load.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ganengine/models/train/trainer.h"

namespace ge::models::train {

inline constexpr const char* kCheckpointJson = "checkpoint.json";
inline constexpr const char* kCheckpointTensors = "checkpoint.safetensors";

std::string train_options_to_json(const TrainOptions& options);
// Unknown keys are an error naming them; missing keys keep their defaults.
TrainOptions train_options_from_json(const std::string& json);

struct OptimizerRecord {
  int64_t steps = 0;
  std::vector<int64_t> param_steps;    // per parameter, in parameters() order
  float lr = 0.f;                      // base learning rate (version 2)
  std::optional<LrSchedule> schedule;  // absent in version 1 files, whose rates were constant
};

// What checkpoint.json records.
struct CheckpointRecord {
  int64_t step = 0;  // training steps done
  uint64_t rng_seed = 0, rng_offset = 0;
  std::map<std::string, data::LoaderState> loaders;  // by data slot
  int64_t batch = 0;                                 // per process
  int64_t world_size = 1;  // processes of the data-parallel run (1 when the record has none)
  std::map<std::string, OptimizerRecord> optimizers;  // by optimizer group
  double elapsed_s = 0;  // training time before this checkpoint, across resumes
  GanOptions gan_options;
  TrainOptions train_options;
  uint64_t tensors_bytes = 0, tensors_fnv1a64 = 0;
};

// Reads out_dir/checkpoint.json and checks checkpoint.safetensors against the size and checksum
// it names. Throws ge::Error naming the file and the defect: missing, not JSON, a missing or
// mistyped field, a tensor file of the wrong size or checksum. A write killed between its two
// renames leaves the new tensor file described by checkpoint.json.next, which is read instead.
CheckpointRecord read_checkpoint(const std::string& out_dir);
// The record of checkpoint.json's `text`, checked as read_checkpoint checks it (without the
// tensor file); errors name `file`.
CheckpointRecord parse_checkpoint_json(const std::string& text, const std::string& file);
// The tensors of the checkpoint `record` was read from (read_checkpoint checked the file).
std::map<std::string, Tensor> read_checkpoint_tensors(const std::string& out_dir);
// Writes the tensor file, then the JSON naming its checksum; each atomically (temporary file,
// flushed, renamed; the directory flushed after the renames), so a failure (a full disk, say)
// throws ge::Error naming the file and the system's reason and leaves the previous pair as it
// was, and a crash at any point leaves a pair read_checkpoint reads: the previous one or this
// one. Fills record.tensors_bytes / tensors_fnv1a64.
void write_checkpoint(const std::string& out_dir, const std::map<std::string, Tensor>& tensors,
                      CheckpointRecord record);
// Tidies out_dir after a crashed write_checkpoint: completes a pair left between its renames and
// removes staged and temporary files. Only for the directory's one writer (the trainer, holding
// its lock).
void recover_checkpoint(const std::string& out_dir);

// The entries of `tensors` whose names start with `prefix`, keyed by the rest of the name.
std::map<std::string, Tensor> entries_with_prefix(const std::map<std::string, Tensor>& tensors,
                                                  const std::string& prefix);

// Checks that `tensors` has exactly the entries `prefix`<key> of module's state dict, with its
// shapes; errors name `file` and the key.
void check_module_state(const nn::Module& module, const std::map<std::string, Tensor>& tensors,
                        const std::string& prefix, const std::string& file);
// Loads the entries named `prefix`<key> of `tensors` into `module` after checking every key and
// shape, so nothing is copied unless all check out; errors name `file` and the key.
void load_module_state(nn::Module& module, const std::map<std::string, Tensor>& tensors,
                       const std::string& prefix, const std::string& file);

// Loads into `model` every network it shares by name with the checkpoint in `out_dir` (SRGAN's
// G from an SRResNet run), each checked key by key before anything changes, and returns their
// names. A checkpoint sharing no network, or one whose network differs in a key or shape (another
// width or block count), throws ge::Error naming the file and what differs.
std::vector<std::string> init_networks_from(Model& model, const std::string& out_dir);

uint64_t fnv1a64_file(const std::string& path);

}  // namespace ge::models::train
