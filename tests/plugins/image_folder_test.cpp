// image_folder as users rely on it: Fashion-MNIST written as gray PNGs reads back as exactly the
// pixels idx_dataset gives; PNG colour types and JPEG convert as PIL does; resizing and cropping
// follow torchvision's geometry; and every bad folder or file is a clear error naming it (or, with
// on_error: skip, a counted skip).
#include <catch2/catch.hpp>

#include <png.h>
#include <cstdio>
#include <jpeglib.h>

#include <cstring>
#include <fstream>

#include "idx_reader.hpp"
#include "image_decoder.hpp"
#include "image_resize.hpp"
#include "pipeline/testing.hpp"
#include "support/temp_dir.hpp"

using namespace pipeline;
namespace fs = std::filesystem;

namespace {

const fs::path fashion = "/usr/share/datasets/fashion-mnist";

// Writes raw pixels of a libpng format (GRAY, GA, RGB, RGBA, or an 8-bit colormap).
void write_png_format(const fs::path& file, int width, int height, png_uint_32 format, const std::vector<std::uint8_t>& pixels,
                      const std::vector<std::uint8_t>& colormap = {}) {
  fs::create_directories(file.parent_path());
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = format;
  image.colormap_entries = static_cast<png_uint_32>(colormap.size() / 3);
  REQUIRE(png_image_write_to_file(&image, file.c_str(), 0, pixels.data(), 0, colormap.empty() ? nullptr : colormap.data()));
}

void write_jpeg(const fs::path& file, int width, int height, int components, const std::vector<std::uint8_t>& pixels) {
  fs::create_directories(file.parent_path());
  FILE* out = std::fopen(file.c_str(), "wb");
  REQUIRE(out);
  jpeg_compress_struct info;
  jpeg_error_mgr err;
  info.err = jpeg_std_error(&err);
  jpeg_create_compress(&info);
  jpeg_stdio_dest(&info, out);
  info.image_width = static_cast<JDIMENSION>(width);
  info.image_height = static_cast<JDIMENSION>(height);
  info.input_components = components;
  info.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, 100, TRUE);
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(pixels.data() + info.next_scanline * width * components);
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::fclose(out);
}

Value params(const fs::path& path, const std::string& extra = "") {
  Value p = parse_value("{" + extra + "}");
  p.set("path", Value::string(path.string()));
  return p;
}

std::string error_of(testing::Harness& kit, const Value& p) {
  try {
    kit.run_stage("image_folder", p);
  } catch (const Error& e) {
    return e.message();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("gray PNGs of Fashion-MNIST read back as exactly idx_dataset's pixels", "[image_folder]") {
  if (!fs::exists(fashion / "t10k-images-idx3-ubyte.gz")) {
    WARN("no Fashion-MNIST: skipped");
    return;
  }
  const auto images = data::read_idx(fashion / "t10k-images-idx3-ubyte.gz", 3, "image");
  const auto labels = data::read_idx(fashion / "t10k-labels-idx1-ubyte.gz", 1, "label");
  test::TempDir dir;
  const int n = 300;
  std::vector<int> count(10, 0);
  for (int i = 0; i < n; ++i) {
    std::vector<std::uint8_t> px(images.bytes.begin() + i * 784, images.bytes.begin() + (i + 1) * 784);
    char name[32];
    std::snprintf(name, sizeof name, "%05d.png", count[labels.bytes[i]]++);
    write_png_format(dir / ("class_" + std::to_string(labels.bytes[i])) / name, 28, 28, PNG_FORMAT_GRAY, px);
  }
  testing::Harness kit;
  const auto run = kit.run_stage("image_folder", params(dir.path(), "channels: 1"));
  auto data = run.output_as<Dataset>("train");
  REQUIRE(data);
  REQUIRE(data->size() == n);
  CHECK(data->sample_shape() == Shape{1, 28, 28});
  CHECK(data->class_names().front() == "class_0");
  // idx_dataset's pixels, class by class in file order.
  const auto idx = kit.run_stage("idx_dataset", parse_value("{images: " + (fashion / "t10k-images-idx3-ubyte.gz").string() +
                                                           ", labels: " + (fashion / "t10k-labels-idx1-ubyte.gz").string() + "}"));
  auto reference = idx.output_as<Dataset>("train");
  std::int64_t k = 0;
  std::size_t mismatches = 0;
  for (int c = 0; c < 10; ++c)
    for (int i = 0; i < n; ++i) {
      if (labels.bytes[i] != c) continue;
      CHECK(data->labels()[static_cast<std::size_t>(k)] == c);
      for (int j = 0; j < 784; ++j) mismatches += data->sample(k)[j] != reference->sample(i)[j];
      ++k;
    }
  CHECK(mismatches == 0);
  CHECK(run.metrics.find("skipped")->as_int() == 0);
}

TEST_CASE("PNG colour types and JPEG convert to gray and RGB as PIL does", "[image_folder]") {
  test::TempDir dir;
  // One 2x1 image per type: pixel 0 = (200, 100, 50), pixel 1 = (10, 20, 30).
  const std::vector<std::uint8_t> rgb = {200, 100, 50, 10, 20, 30};
  write_png_format(dir / "a" / "rgb.png", 2, 1, PNG_FORMAT_RGB, rgb);
  write_png_format(dir / "b" / "rgba.png", 2, 1, PNG_FORMAT_RGBA, {200, 100, 50, 0, 10, 20, 30, 128});
  write_png_format(dir / "c" / "palette.png", 2, 1, PNG_FORMAT_RGB_COLORMAP, {1, 0}, {10, 20, 30, 200, 100, 50});
  write_png_format(dir / "d" / "gray_alpha.png", 2, 1, PNG_FORMAT_GA, {77, 0, 150, 255});
  testing::Harness kit;
  const auto color = kit.run_stage("image_folder", params(dir.path(), "channels: 3"));
  auto d = color.output_as<Dataset>("train");
  REQUIRE(d->size() == 4);
  auto px = [&](std::int64_t s, int c, int x) { return std::lround(d->sample(s)[c * 2 + x] * 255.0f); };
  for (std::int64_t s : {0, 1, 2}) {  // rgb, rgba (alpha dropped, not composited), palette
    INFO("sample " << s);
    CHECK(px(s, 0, 0) == 200);
    CHECK(px(s, 1, 0) == 100);
    CHECK(px(s, 2, 0) == 50);
    CHECK(px(s, 0, 1) == 10);
    CHECK(px(s, 2, 1) == 30);
  }
  CHECK(px(3, 0, 0) == 77);  // gray replicated
  CHECK(px(3, 2, 1) == 150);
  const auto gray = kit.run_stage("image_folder", params(dir.path(), "channels: 1"));
  auto g = gray.output_as<Dataset>("train");
  // ITU-R 601-2 luma with PIL's integer rounding: (19595 R + 38470 G + 7471 B + 2^15) >> 16.
  CHECK(std::lround(g->sample(0)[0] * 255.0f) == (19595 * 200 + 38470 * 100 + 7471 * 50 + 32768) >> 16);
  CHECK(std::lround(g->sample(3)[1] * 255.0f) == 150);

  // JPEG, gray and colour: lossy at quality 100, so close rather than equal.
  test::TempDir jdir;
  std::vector<std::uint8_t> smooth(16 * 16), smooth_rgb(16 * 16 * 3);
  for (int i = 0; i < 256; ++i) {
    smooth[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i % 16 * 8 + i / 16 * 4);
    for (int c = 0; c < 3; ++c) smooth_rgb[static_cast<std::size_t>(i * 3 + c)] = static_cast<std::uint8_t>(50 + c * 60 + i % 16 * 4);
  }
  write_jpeg(jdir / "g" / "x.jpg", 16, 16, 1, smooth);
  write_jpeg(jdir / "h" / "y.JPEG", 16, 16, 3, smooth_rgb);
  const auto j = kit.run_stage("image_folder", params(jdir.path(), "channels: 3"));
  auto jd = j.output_as<Dataset>("train");
  REQUIRE(jd->size() == 2);
  double worst = 0;
  for (int i = 0; i < 256; ++i) {
    worst = std::max(worst, std::fabs(jd->sample(0)[i] * 255.0 - smooth[static_cast<std::size_t>(i)]));
    worst = std::max(worst, std::fabs(jd->sample(1)[256 + i] * 255.0 - smooth_rgb[static_cast<std::size_t>(i * 3 + 1)]));
  }
  CHECK(worst <= 4);
}

TEST_CASE("resize and crop follow torchvision's geometry; mean and std normalise per channel", "[image_folder]") {
  // A constant image stays constant under the antialiased filter, at the shorter-side size.
  data::Planes flat{1, 30, 40, std::vector<float>(1200, 0.25f)};
  const auto r = data::resize_shorter_side(flat, 20);
  CHECK(r.height == 20);
  CHECK(r.width == 26);  // int(20 * 40 / 30)
  for (float v : r.values) CHECK(v == Approx(0.25f));
  // A ramp shrunk 2x, against PIL (Image.fromarray(ramp, "F").resize((4, 2), BILINEAR), which does
  // not round): the triangle widened to the scale, normalised at the borders.
  data::Planes ramp{1, 4, 8, {}};
  for (int i = 0; i < 32; ++i) ramp.values.push_back(static_cast<float>(i % 8));
  const auto half = data::resize_bilinear(ramp, 2, 4);
  const float pil[] = {0.71428573f, 2.5f, 4.5f, 6.285714f};
  for (int x = 0; x < 4; ++x) CHECK(half.values[static_cast<std::size_t>(x)] == Approx(pil[x]).epsilon(1e-6));
  // CenterCrop rounds half to even as Python's round: (5 - 2) / 2 = 1.5 -> 2, (6 - 3) / 2 = 1.5 -> 2.
  data::Planes grid{1, 5, 6, {}};
  for (int i = 0; i < 30; ++i) grid.values.push_back(static_cast<float>(i));
  const auto c = data::center_crop(grid, 2, 3);
  CHECK(c.values[0] == 2 * 6 + 2);

  test::TempDir dir;
  std::vector<std::uint8_t> big(40 * 30 * 3, 51);  // 51 / 255 = 0.2
  write_png_format(dir / "x" / "a.png", 40, 30, PNG_FORMAT_RGB, big);
  std::vector<std::uint8_t> other(50 * 60 * 3, 204);  // 0.8, another size
  write_png_format(dir / "y" / "b.png", 50, 60, PNG_FORMAT_RGB, other);
  testing::Harness kit;
  const auto run = kit.run_stage("image_folder", params(dir.path(), "resize: 24, crop: [20, 22], mean: [0.5, 0.5, 0.5], std: [0.5, 0.25, 1]"));
  auto d = run.output_as<Dataset>("train");
  REQUIRE(d->sample_shape() == Shape{3, 20, 22});
  CHECK(d->sample(0)[0] == Approx((0.2 - 0.5) / 0.5).margin(1e-5));
  CHECK(d->sample(1)[20 * 22] == Approx((0.8 - 0.5) / 0.25).margin(1e-5));
}

TEST_CASE("bad folders and files are clear errors naming them, or counted skips", "[image_folder]") {
  testing::Harness kit;
  test::TempDir dir;
  std::vector<std::uint8_t> px(4 * 4, 100);
  write_png_format(dir / "cat" / "a.png", 4, 4, PNG_FORMAT_GRAY, px);
  write_png_format(dir / "cat" / "b.png", 4, 4, PNG_FORMAT_GRAY, px);
  write_png_format(dir / "dog" / "a.png", 4, 4, PNG_FORMAT_GRAY, px);
  test::write_text(dir / "cat" / ".DS_Store", "ignored");  // dot files are not images, and not errors

  SECTION("an empty class folder") {
    fs::create_directories(dir / "emu");
    CHECK(error_of(kit, params(dir.path())) == (dir / "emu").string() + ": class folder 'emu' holds no images");
  }
  SECTION("a file that is not an image, failed or skipped") {
    test::write_text(dir / "dog" / "notes.txt", "hello");
    CHECK(error_of(kit, params(dir.path())).find((dir / "dog" / "notes.txt").string() + ": not an image") == 0);
    const auto run = kit.run_stage("image_folder", params(dir.path(), "on_error: skip"));
    CHECK(run.metrics.find("skipped")->as_int() == 1);
    CHECK(run.output_as<Dataset>("train")->size() == 3);
  }
  SECTION("a truncated PNG, failed or skipped") {
    std::ifstream in(dir / "cat" / "b.png", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    in.close();
    test::write_text(dir / "cat" / "b.png", bytes.substr(0, bytes.size() / 2));
    const std::string e = error_of(kit, params(dir.path()));
    INFO(e);
    CHECK(e.find((dir / "cat" / "b.png").string() + ": ") == 0);
    CHECK(e.find("PNG") != std::string::npos);
    const auto run = kit.run_stage("image_folder", params(dir.path(), "on_error: skip"));
    CHECK(run.metrics.find("skipped")->as_int() == 1);
    CHECK(run.output_as<Dataset>("train")->size() == 2);
  }
  SECTION("a PNG name on another kind of file") {
    test::write_text(dir / "dog" / "fake.png", "GIF89a not really");
    CHECK(error_of(kit, params(dir.path())) == (dir / "dog" / "fake.png").string() + ": not a PNG or JPEG image");
  }
  SECTION("a truncated JPEG") {
    std::vector<std::uint8_t> rgb(32 * 32 * 3, 90);
    write_jpeg(dir / "dog" / "z.jpg", 32, 32, 3, rgb);
    std::ifstream in(dir / "dog" / "z.jpg", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    in.close();
    test::write_text(dir / "dog" / "z.jpg", bytes.substr(0, bytes.size() * 2 / 3));
    const std::string e = error_of(kit, params(dir.path()));
    INFO(e);
    CHECK(e.find((dir / "dog" / "z.jpg").string() + ": corrupt") == 0);
    CHECK(e.find("JPEG") != std::string::npos);
  }
  SECTION("mixed sizes without resize or crop") {
    std::vector<std::uint8_t> wide(8 * 4, 100);
    write_png_format(dir / "dog" / "b.png", 8, 4, PNG_FORMAT_GRAY, wide);
    CHECK(error_of(kit, params(dir.path())).find((dir / "dog" / "b.png").string() +
                                                 ": image is 8x4, the first (a.png) 4x4; give resize and/or crop") == 0);
    CHECK(kit.run_stage("image_folder", params(dir.path(), "resize: 4, crop: [4, 4]")).output_as<Dataset>("train")->size() == 4);
  }
  SECTION("a crop larger than the image") {
    CHECK(error_of(kit, params(dir.path(), "crop: [5, 5]")).find("crop 5x5 is larger than the image (4x4)") != std::string::npos);
  }
  SECTION("no class folders") {
    test::TempDir flat;
    write_png_format(flat / "a.png", 4, 4, PNG_FORMAT_GRAY, px);
    CHECK(error_of(kit, params(flat.path())) == flat.path().string() + ": has no class folders (expected one subfolder of images per class)");
  }
  SECTION("parameters checked before running") {
    CHECK(error_of(kit, params(dir.path(), "mean: [0.5]")).find("parameter 'mean' needs one value per channel (3), got [0.5]") !=
          std::string::npos);
    CHECK(error_of(kit, params(dir.path(), "channels: 2")).find("parameter 'channels' must be 1 or 3, got 2") != std::string::npos);
    CHECK(error_of(kit, params(dir.path(), "std: [1, 0, 1]")).find("parameter 'std' needs values above 0") != std::string::npos);
  }
  SECTION("classes, per_class and test_fraction as idx_dataset, with the folder names") {
    const auto run = kit.run_stage("image_folder", params(dir.path(), "classes: [1], test_fraction: 0"));
    auto d = run.output_as<Dataset>("train");
    REQUIRE(d->size() == 1);
    CHECK(d->class_names() == std::vector<std::string>{"dog"});
  }
}
