package dev.synod.server.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Objects;

/**
 * What tells that one of a set of files changed: modification time, size and file identity (an
 * atomic rename onto the path gives a new inode even within one clock tick). A file that cannot
 * be read has a stamp of its own, so it reads as changed again once it is back.
 */
record FileStamp(List<String> parts) {
  static FileStamp of(Path... files) {
    String[] parts = new String[files.length];
    for (int i = 0; i < files.length; i++) {
      try {
        BasicFileAttributes a = Files.readAttributes(files[i], BasicFileAttributes.class);
        parts[i] = a.lastModifiedTime().toMillis() + "/" + a.lastModifiedTime() + "/" + a.size() + "/"
            + Objects.toString(a.fileKey());
      } catch (IOException e) {
        parts[i] = "unreadable";
      }
    }
    return new FileStamp(List.of(parts));
  }
}
