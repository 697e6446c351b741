#pragma once
// The apps' entry point: CLI11 parsing and one exit path for errors, so every failure prints
// one "error: ..." line and exits 1 (2 for bad command lines, as CLI11 does).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "ganengine/error.h"

namespace ge::apps {

template <class Setup>
int run_app(CLI::App& app, int argc, char** argv, Setup&& setup) {
  try {
    setup();
    app.require_subcommand(1);
    app.parse(argc, argv);
    return 0;
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

}  // namespace ge::apps
