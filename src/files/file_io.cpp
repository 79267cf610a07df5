// Whole-file reading and atomic replacement, shared by the state directory
// and the TLS files.
#include "files/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>

namespace dm {

namespace {

const char* kind_of(mode_t mode) {
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a plain file";
}

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

} // namespace

read_status read_whole_file(const std::string& path, std::size_t limit,
                            std::string& out, std::string& error,
                            file_kinds kinds) {
  out.clear();
  const bool streams = kinds == file_kinds::streams_too;
  // O_NONBLOCK: opening a FIFO must not wait for a writer before it can be
  // refused.
  int fd = ::open(path.c_str(),
                  O_RDONLY | O_CLOEXEC | O_NOCTTY | (streams ? 0 : O_NONBLOCK));
  if (fd < 0) {
    error = std::strerror(errno);
    return errno == ENOENT ? read_status::missing : read_status::failed;
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    error = std::strerror(errno);
    ::close(fd);
    return read_status::failed;
  }
  if (S_ISDIR(info.st_mode)) {
    error = std::strerror(EISDIR); // as read(2) would say
    ::close(fd);
    return read_status::failed;
  }
  if (!streams && !S_ISREG(info.st_mode)) {
    error = std::string("not a regular file (") + kind_of(info.st_mode) + ")";
    ::close(fd);
    return read_status::failed;
  }
  auto too_large = [&] {
    error = "larger than " + std::to_string(limit) + " bytes";
    ::close(fd);
    return read_status::failed;
  };
  if (S_ISREG(info.st_mode)) {
    if (static_cast<std::uint64_t>(info.st_size) > limit)
      return too_large();
    out.reserve(static_cast<std::size_t>(info.st_size));
  }
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = std::strerror(errno);
      ::close(fd);
      return read_status::failed;
    }
    if (n == 0)
      break;
    // The file may grow while it is read.
    if (out.size() + static_cast<std::size_t>(n) > limit)
      return too_large();
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return read_status::ok;
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool sync_directory(const std::string& dir, std::string& error) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open directory " + dir + ": " + std::strerror(errno);
    return false;
  }
  bool ok = ::fsync(fd) == 0;
  if (!ok)
    error = "cannot sync directory " + dir + ": " + std::strerror(errno);
  ::close(fd);
  return ok;
}

bool write_file_atomically(const std::string& path, std::string_view data,
                           const atomic_write_options& options,
                           std::string& error) {
  const std::string dir = parent_of(path);
  if (options.create_parents) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      error = dir + ": " + ec.message();
      return false;
    }
  }
  const std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  options.mode);
  if (fd < 0) {
    error = "cannot create " + temp + ": " + std::strerror(errno);
    return false;
  }
  auto fail = [&](const std::string& what) {
    error = what + ": " + std::strerror(errno);
    ::close(fd);
    ::unlink(temp.c_str());
    return false;
  };
  if (options.exact_mode && ::fchmod(fd, options.mode) != 0)
    return fail("cannot set the mode of " + temp);
  if (!write_all(fd, data.data(), data.size()))
    return fail("cannot write " + temp);
  if (::fsync(fd) != 0)
    return fail("cannot sync " + temp);
  if (::close(fd) != 0) {
    error = "cannot write " + temp + ": " + std::strerror(errno);
    ::unlink(temp.c_str());
    return false;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    error = "cannot rename " + temp + ": " + std::strerror(errno);
    ::unlink(temp.c_str());
    return false;
  }
  return sync_directory(dir, error);
}

} // namespace dm
