// The one whole-file reader and atomic writer (src/files/file_io).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "files/file_io.hpp"
#include "tests/support/temp_dir.hpp"

using namespace dm;

TEST(file_io, reads_regular_files_within_the_limit) {
  test::temp_dir dir;
  dir.write("a", "hello");
  std::string text = "old";
  std::string error;
  EXPECT_EQ(read_whole_file(dir.file("a"), 5, text, error), read_status::ok);
  EXPECT_EQ(text, "hello");
  EXPECT_EQ(read_whole_file(dir.file("a"), 4, text, error),
            read_status::failed);
  EXPECT_EQ(error, "larger than 4 bytes");
  EXPECT_EQ(read_whole_file(dir.file("none"), 5, text, error),
            read_status::missing);
  EXPECT_EQ(error, "No such file or directory");
}

TEST(file_io, refuses_what_is_not_a_regular_file) {
  test::temp_dir dir;
  std::string text;
  std::string error;
  EXPECT_EQ(read_whole_file(dir.path(), 100, text, error), read_status::failed);
  EXPECT_EQ(error, "Is a directory");
  EXPECT_EQ(read_whole_file("/dev/zero", 100, text, error),
            read_status::failed);
  EXPECT_EQ(error, "not a regular file (a character device)");
  ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0600), 0);
  EXPECT_EQ(read_whole_file(dir.file("fifo"), 100, text, error),
            read_status::failed);
  EXPECT_EQ(error, "not a regular file (a FIFO)");
  // Streams, where asked for, are read up to the limit; a directory never.
  EXPECT_EQ(
      read_whole_file("/dev/zero", 100, text, error, file_kinds::streams_too),
      read_status::failed);
  EXPECT_EQ(error, "larger than 100 bytes");
  EXPECT_EQ(
      read_whole_file(dir.path(), 100, text, error, file_kinds::streams_too),
      read_status::failed);
  std::thread writer([&] {
    int fd = ::open(dir.file("fifo").c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(::write(fd, "piped", 5), 5);
    ::close(fd);
  });
  EXPECT_EQ(read_whole_file(dir.file("fifo"), 100, text, error,
                            file_kinds::streams_too),
            read_status::ok)
      << error;
  writer.join();
  EXPECT_EQ(text, "piped");
}

TEST(file_io, atomic_write_replaces_the_file_whole) {
  test::temp_dir dir;
  std::string error;
  atomic_write_options options;
  options.mode = 0600;
  options.exact_mode = true;
  options.create_parents = true;
  const auto path = dir.file("sub/dir/key.pem");
  ASSERT_TRUE(write_file_atomically(path, "first", options, error)) << error;
  ASSERT_TRUE(write_file_atomically(path, "second", options, error)) << error;
  EXPECT_EQ(dir.read("sub/dir/key.pem"), "second");
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_NE(::access((path + ".tmp").c_str(), F_OK), 0);
  // A directory in the temporary file's way: the old file stays.
  ASSERT_EQ(::mkdir((path + ".tmp").c_str(), 0755), 0);
  EXPECT_FALSE(write_file_atomically(path, "third", options, error));
  EXPECT_NE(error.find("cannot create " + path + ".tmp"), std::string::npos)
      << error;
  EXPECT_EQ(dir.read("sub/dir/key.pem"), "second");
}
