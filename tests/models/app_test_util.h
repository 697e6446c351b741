#pragma once
// Runs the command-line apps as a user would, for the app tests: exit code and output.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "models/train_test_util.h"

namespace ge::testing {

struct AppResult {
  int rc = -1;
  std::string output;  // stdout and stderr
};

// Runs <build>/models/apps/<app> with `args` (already shell-quoted where needed).
inline AppResult run_app(const std::string& app, const std::string& args) {
  namespace fs = std::filesystem;
  const fs::path exe = fs::path(GE_APPS_DIR) / app;
  EXPECT_TRUE(fs::exists(exe)) << exe << " is missing: build the '" << app << "' target";
  const std::string log =
      (fs::temp_directory_path() / ("ge_app_" + app + "_" + std::to_string(::getpid()) + ".log"))
          .string();
  const int status =
      std::system(("'" + exe.string() + "' " + args + " > '" + log + "' 2>&1").c_str());
  AppResult r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.output = read_text(log);
  fs::remove(log);
  return r;
}

inline AppResult run_gan(const std::string& args) {
  return run_app("gan", args);
}

#define EXPECT_OUTPUT(result, part)                        \
  EXPECT_NE((result).output.find(part), std::string::npos) \
      << "expected \"" << (part) << "\" in:\n"             \
      << (result).output

}  // namespace ge::testing
