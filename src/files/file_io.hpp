// Whole files: the one reader (bounded; regular files only unless asked)
// and the one atomic writer (temporary file, fsync, rename, directory
// fsync) that the state directory, the TLS files and the client's record
// file share.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace dm {

enum class read_status { ok, missing, failed };

// What read_whole_file reads: regular files only (files the service trusts
// at start), or also pipes and devices (a record a user names on the command
// line, as /dev/stdin), read as a stream up to the limit.
enum class file_kinds { regular_only, streams_too };

// Reads the whole file at `path` into `out` (replacing it). By default only
// a regular file (or a link to one) is read: a device, FIFO or socket is
// refused at once, without reading or blocking on it ("not a regular file
// (a FIFO)"); a directory never is ("Is a directory"). A file larger than
// `limit` bytes is refused (a stream once it passes the limit). `missing`
// when nothing is at `path`. On failure `error` is the reason alone, for
// the caller to put after the file's name.
read_status read_whole_file(const std::string& path, std::size_t limit,
                            std::string& out, std::string& error,
                            file_kinds kinds = file_kinds::regular_only);

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
