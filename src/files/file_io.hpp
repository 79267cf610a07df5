// Whole files: the one reader (regular files only, bounded) and the one
// atomic writer (temporary file, fsync, rename, directory fsync) that the
// state directory and the TLS files share.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace dm {

enum class read_status { ok, missing, failed };

// Reads the whole file at `path` into `out` (replacing it). Only a regular
// file (or a link to one) is read: a device, FIFO, socket or directory is
// refused at once, without reading or blocking on it; so is a file larger
// than `limit` bytes. `missing` when nothing is at `path`; on `failed`,
// `error` is the reason alone ("not a regular file (a FIFO)"), for the
// caller to put after the file's name.
read_status read_whole_file(const std::string& path, std::size_t limit,
                            std::string& out, std::string& error);

// Writes all of `data` to `fd`, resuming after EINTR and short writes.
// False (errno set) on the first failure.
bool write_all(int fd, const char* data, std::size_t size);

// fsync of a directory, so a rename or a new file in it is durable.
bool sync_directory(const std::string& dir, std::string& error);

struct atomic_write_options {
  // The file's mode; with `exact_mode` it is set as given, whatever the
  // umask (private keys), otherwise the umask applies as for any new file.
  mode_t mode = 0644;
  bool exact_mode = false;
  // Create missing parent directories first.
  bool create_parents = false;
};

// Replaces `path` with `data` so that a reader or a crash sees the old
// file or the new one, never a mix: `path`.tmp written and fsynced, renamed
// over `path`, then the directory fsynced. On failure the temporary file
// is removed and `error` says what failed, naming the file.
bool write_file_atomically(const std::string& path, std::string_view data,
                           const atomic_write_options& options,
                           std::string& error);

} // namespace dm
