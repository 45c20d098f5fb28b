// Headless Chromium (Debian's chromium package), for testing report.html for real: the DOM after
// the page loaded, what the page logged, and a screenshot. And a strict XML parse of a file.
#pragma once

#include <filesystem>
#include <string>

namespace test {

struct RenderedPage {
  int exit_code = -1;
  std::string dom;  // document.documentElement.outerHTML after load (--dump-dom)
  std::string log;  // Chromium's stderr: console messages appear as CONSOLE lines
};

// /usr/bin/chromium, or empty when it is not installed (install-deps.sh --test installs it).
std::filesystem::path chromium();

// Loads `html` from disk (file://) in headless Chromium with a profile of its own, so tests may
// run in parallel.
RenderedPage render_page(const std::filesystem::path& html);

// Saves a screenshot of `html` at width x height; true when the PNG was written.
bool screenshot(const std::filesystem::path& html, const std::filesystem::path& png, int width, int height);

// "" when `file` is well-formed XML (python3's expat, strict), else the parser's message.
std::string xml_parse_error(const std::filesystem::path& file);

// How often `needle` occurs in `text`.
std::size_t count_of(const std::string& text, const std::string& needle);

}  // namespace test
