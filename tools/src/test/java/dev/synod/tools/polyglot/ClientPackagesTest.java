package dev.synod.tools.polyglot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packages other languages install, versioned with the proto: the Python wheel (built with
 * Debian's protoc, like run-example.sh) and the npm package (packed, installed into a fresh
 * project and type-checked by check-package.sh, skipped when npm or its registry is missing).
 */
class ClientPackagesTest {
  private static final Duration LIMIT = Duration.ofMinutes(5);

  /** The root pom's version, as PEP 440 writes it (0.1.0-SNAPSHOT is 0.1.0.dev0). */
  private static String pythonVersion() throws IOException {
    String pom = Files.readString(Repository.root().resolve("pom.xml"));
    Matcher m = Pattern.compile("<artifactId>synod-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
    assertTrue(m.find(), "no version in pom.xml");
    return m.group(1).replace("-SNAPSHOT", ".dev0");
  }

  @Test
  void pythonWheelHoldsTheStubsOfTheProtoWithAValidRecord(@TempDir Path tmp) throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")) && Files.isExecutable(Path.of("/usr/bin/protoc"))
        && Files.isExecutable(Path.of("/usr/bin/grpc_python_plugin")),
        "needs Debian's python3, protoc and grpc_python_plugin (run-example.sh installs them)");
    ExampleScript.Result run = ExampleScript.of("client-python", "build_wheel.py")
        .run(LIMIT, tmp.resolve("output.txt"), tmp.resolve("dist").toString());
    assertEquals(0, run.exitCode(), run.output());
    String version = pythonVersion();
    Path wheel = tmp.resolve("dist").resolve("synod_api-" + version + "-py3-none-any.whl");
    assertEquals(List.of(wheel.toString()), run.lines());

    try (ZipFile zip = new ZipFile(wheel.toFile())) {
      String distInfo = "synod_api-" + version + ".dist-info/";
      String metadata = read(zip, distInfo + "METADATA");
      assertTrue(metadata.contains("\nVersion: " + version + "\n"), metadata);
      assertTrue(read(zip, "synod/v1/synod_pb2_grpc.py").contains("class SynodStub"));
      assertTrue(read(zip, "synod/v1/synod_pb2.py").contains("synod/v1/synod.proto"));
      // Every file is in the RECORD with its sha256 (what pip checks on install), and nothing else is.
      Map<String, String> record = new HashMap<>();
      for (String line : read(zip, distInfo + "RECORD").split("\n")) {
        String[] f = line.split(",");
        record.put(f[0], f.length > 1 ? f[1] : "");
      }
      List<String> entries = zip.stream().map(ZipEntry::getName).toList();
      assertEquals(entries.size(), record.size(), "RECORD vs entries: " + record.keySet() + " / " + entries);
      for (String name : entries) {
        if (name.equals(distInfo + "RECORD")) {
          continue;
        }
        byte[] data = zip.getInputStream(zip.getEntry(name)).readAllBytes();
        String sha = "sha256=" + Base64.getUrlEncoder().withoutPadding()
            .encodeToString(MessageDigest.getInstance("SHA-256").digest(data));
        assertEquals(sha, record.get(name), name);
      }
    }
  }

  @Test
  void nodePackagePacksInstallsLoadsAndTypeChecks(@TempDir Path tmp) throws Exception {
    ExampleScript.Result run = ExampleScript.of("client-node", "check-package.sh").run(LIMIT, tmp.resolve("output.txt"));
    Assumptions.assumeFalse(run.exitCode() == 77, () -> "skipped: " + run.output());
    assertEquals(0, run.exitCode(), run.output());
    assertTrue(run.output().contains("OK: synod-api"), run.output());
  }

  private static String read(ZipFile zip, String name) throws IOException {
    ZipEntry e = zip.getEntry(name);
    assertNotNull(e, name + " missing from the wheel");
    return new String(zip.getInputStream(e).readAllBytes(), StandardCharsets.UTF_8);
  }
}
