#include "image_decoder.hpp"

#include <png.h>
// jpeglib.h needs FILE and size_t declared first.
#include <cstdio>
#include <jpeglib.h>
#include <jerror.h>

#include <algorithm>
#include <csetjmp>
#include <cstring>
#include <fstream>
#include <memory>

#include "pipeline/error.hpp"
#include "pipeline/io.hpp"

namespace pipeline::data {
namespace {

[[noreturn]] void bad(const std::filesystem::path& file, const std::string& what) { throw_data_format(file.string(), what); }

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::io, "cannot open " + file.string());
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes;
}

void check_size(const std::filesystem::path& file, std::int64_t width, std::int64_t height) {
  if (width <= 0 || height <= 0) bad(file, "image has no pixels (" + std::to_string(width) + "x" + std::to_string(height) + ")");
  if (width > max_image_pixels / height)
    bad(file, "image of " + std::to_string(width) + "x" + std::to_string(height) + " pixels exceeds the limit of " +
                  std::to_string(max_image_pixels) + " pixels");
}

// RGBA (as decoded) into the requested channels, as PIL's convert("RGB") / convert("L").
Image convert(std::int64_t width, std::int64_t height, const std::uint8_t* rgba, int channels) {
  Image out;
  out.width = width;
  out.height = height;
  out.channels = channels;
  const std::size_t n = static_cast<std::size_t>(width * height);
  out.pixels.resize(n * static_cast<std::size_t>(channels));
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2];
    if (channels == 3) {
      out.pixels[3 * i] = r;
      out.pixels[3 * i + 1] = g;
      out.pixels[3 * i + 2] = b;
    } else {
      out.pixels[i] = static_cast<std::uint8_t>((19595u * r + 38470u * g + 7471u * b + 0x8000u) >> 16);
    }
  }
  return out;
}

Image decode_png(const std::filesystem::path& file, const std::vector<std::uint8_t>& bytes, int channels) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()))
    bad(file, std::string("not a readable PNG: ") + image.message);
  try {
    check_size(file, image.width, image.height);
  } catch (...) {
    png_image_free(&image);
    throw;
  }
  // 16-bit samples scale to 8 bits as PIL does, not through libpng's linear-light conversion.
  image.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
  // Gray sources stay gray (no luma round trip); everything else as RGBA, converted as PIL does.
  const bool gray = (image.format & PNG_FORMAT_FLAG_COLOR) == 0 && (image.format & PNG_FORMAT_FLAG_COLORMAP) == 0;
  image.format = gray ? PNG_FORMAT_GA : PNG_FORMAT_RGBA;
  std::vector<std::uint8_t> buffer(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, buffer.data(), 0, nullptr)) {
    const std::string message = image.message;
    png_image_free(&image);
    bad(file, "corrupt or truncated PNG: " + message);
  }
  const std::size_t n = static_cast<std::size_t>(image.width) * image.height;
  if (!gray) return convert(image.width, image.height, buffer.data(), channels);
  Image out;
  out.width = image.width;
  out.height = image.height;
  out.channels = channels;
  out.pixels.resize(n * static_cast<std::size_t>(channels));
  for (std::size_t i = 0; i < n; ++i)
    for (int c = 0; c < channels; ++c) out.pixels[i * static_cast<std::size_t>(channels) + static_cast<std::size_t>(c)] = buffer[2 * i];
  return out;
}

// libjpeg reports errors through a callback that must not return: jump back out of it.
struct JpegError {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated = false;
};

void jpeg_fail(j_common_ptr info) {
  auto* e = reinterpret_cast<JpegError*>(info->err);
  (*info->err->format_message)(info, e->message);
  std::longjmp(e->jump, 1);
}

// Warnings about odd but decodable data are ignored, as PIL ignores them; a premature end of the
// file means pixels were invented, which PIL refuses too.
void jpeg_warning(j_common_ptr info, int level) {
  auto* e = reinterpret_cast<JpegError*>(info->err);
  if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF && !e->truncated) {
    e->truncated = true;
    (*info->err->format_message)(info, e->message);
  }
}

// What the decode fills in. It lives on the heap and is reached through a pointer set before
// setjmp, so a longjmp out of libjpeg leaves no automatic C++ object in an indeterminate state.
struct JpegPixels {
  std::int64_t width = 0, height = 0;
  bool gray = false;
  std::vector<std::uint8_t> rgba, row;
};

Image decode_jpeg(const std::filesystem::path& file, const std::vector<std::uint8_t>& bytes, int channels) {
  jpeg_decompress_struct info;
  JpegError error;
  info.err = jpeg_std_error(&error.manager);
  error.manager.error_exit = jpeg_fail;
  error.manager.emit_message = jpeg_warning;
  const auto pixels = std::make_unique<JpegPixels>();
  JpegPixels* const out = pixels.get();
  bool too_large = false;
  if (setjmp(error.jump)) {
    jpeg_destroy_decompress(&info);
    bad(file, std::string("corrupt JPEG: ") + error.message);
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&info, TRUE);
  out->gray = info.jpeg_color_space == JCS_GRAYSCALE;
  info.out_color_space = out->gray ? JCS_GRAYSCALE : JCS_RGB;
  out->width = info.image_width;
  out->height = info.image_height;
  too_large = out->width <= 0 || out->height <= 0 || out->width > max_image_pixels / std::max<std::int64_t>(out->height, 1);
  if (!too_large) {
    jpeg_start_decompress(&info);
    const int components = info.output_components;
    out->rgba.resize(static_cast<std::size_t>(out->width * out->height * 4));
    out->row.resize(static_cast<std::size_t>(out->width * components));
    while (info.output_scanline < info.output_height) {
      const auto y = info.output_scanline;
      JSAMPROW rows[1] = {out->row.data()};
      jpeg_read_scanlines(&info, rows, 1);
      for (std::int64_t x = 0; x < out->width; ++x) {
        std::uint8_t* px = out->rgba.data() + (static_cast<std::int64_t>(y) * out->width + x) * 4;
        if (components == 1) px[0] = px[1] = px[2] = out->row[static_cast<std::size_t>(x)];
        else std::memcpy(px, out->row.data() + x * components, 3);
        px[3] = 255;
      }
    }
    jpeg_finish_decompress(&info);
  }
  jpeg_destroy_decompress(&info);
  if (too_large) check_size(file, out->width, out->height);
  if (error.truncated) bad(file, std::string("corrupt or truncated JPEG: ") + error.message);
  if (out->gray) {  // gray stays exact: no luma round trip
    Image image;
    image.width = out->width;
    image.height = out->height;
    image.channels = channels;
    const std::size_t n = static_cast<std::size_t>(out->width * out->height);
    image.pixels.resize(n * static_cast<std::size_t>(channels));
    for (std::size_t i = 0; i < n; ++i)
      for (int c = 0; c < channels; ++c)
        image.pixels[i * static_cast<std::size_t>(channels) + static_cast<std::size_t>(c)] = out->rgba[4 * i];
    return image;
  }
  return convert(out->width, out->height, out->rgba.data(), channels);
}

}  // namespace

bool has_image_extension(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

Image decode_image(const std::filesystem::path& file, int channels) {
  const std::vector<std::uint8_t> bytes = read_bytes(file);
  static const std::uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), png_signature, 8) == 0) return decode_png(file, bytes, channels);
  if (bytes.size() >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff) return decode_jpeg(file, bytes, channels);
  bad(file, bytes.empty() ? "empty file, not an image" : "not a PNG or JPEG image");
}

void write_png(const std::filesystem::path& file, const Image& image) {
  png_image out;
  std::memset(&out, 0, sizeof out);
  out.version = PNG_IMAGE_VERSION;
  out.width = static_cast<png_uint_32>(image.width);
  out.height = static_cast<png_uint_32>(image.height);
  out.format = image.channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (!png_image_write_get_memory_size(out, size, 0, image.pixels.data(), 0, nullptr))
    throw Error(ErrorCode::io, "cannot encode " + file.string() + " as PNG: " + out.message);
  std::vector<std::uint8_t> buffer(size);
  if (!png_image_write_to_memory(&out, buffer.data(), &size, 0, image.pixels.data(), 0, nullptr))
    throw Error(ErrorCode::io, "cannot encode " + file.string() + " as PNG: " + out.message);
  write_file_atomic(file, [&](std::ostream& os) { os.write(reinterpret_cast<const char*>(buffer.data()), static_cast<std::streamsize>(size)); });
}

}  // namespace pipeline::data
