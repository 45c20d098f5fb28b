#include "support/browser.hpp"

#include <sys/wait.h>

#include <cstdlib>

#include "support/cli.hpp"
#include "support/temp_dir.hpp"

namespace test {
namespace fs = std::filesystem;
namespace {

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int run_shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string chromium_command(const TempDir& profile) {
  // --no-sandbox: the tests run as root in CI; a profile per call: no lock between parallel tests.
  return quoted(chromium().string()) + " --headless --no-sandbox --disable-gpu --disable-extensions --no-first-run "
         "--disable-background-networking --enable-logging=stderr --v=0 --user-data-dir=" + quoted(profile.path().string());
}

}  // namespace

fs::path chromium() {
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (fs::exists(candidate)) return candidate;
  return {};
}

RenderedPage render_page(const fs::path& html) {
  TempDir work;
  RenderedPage page;
  const fs::path out = work / "dom.html", err = work / "log.txt";
  page.exit_code = run_shell("timeout 120 " + chromium_command(work) + " --dump-dom " + quoted("file://" + fs::absolute(html).string()) + " > " +
                             quoted(out.string()) + " 2> " + quoted(err.string()));
  page.dom = read_file(out);
  page.log = read_file(err);
  return page;
}

bool screenshot(const fs::path& html, const fs::path& png, int width, int height) {
  TempDir work;
  fs::remove(png);
  const int code = run_shell("timeout 120 " + chromium_command(work) + " --hide-scrollbars --window-size=" + std::to_string(width) + "," +
                             std::to_string(height) + " --screenshot=" + quoted(fs::absolute(png).string()) + " " +
                             quoted("file://" + fs::absolute(html).string()) + " > /dev/null 2>&1");
  return code == 0 && fs::exists(png) && fs::file_size(png) > 0;
}

std::string xml_parse_error(const fs::path& file) {
  TempDir work;
  const fs::path err = work / "err.txt";
  const int code = run_shell("python3 -c " + quoted("import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])") + " " + quoted(file.string()) +
                             " 2> " + quoted(err.string()));
  if (code == 0) return {};
  const std::string text = read_file(err);
  return text.empty() ? "python3 exited " + std::to_string(code) : text.substr(text.rfind('\n', text.size() - 2) + 1);
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

}  // namespace test
