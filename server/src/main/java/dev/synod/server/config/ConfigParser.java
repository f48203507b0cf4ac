package dev.synod.server.config;

import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Builds a {@link ServerConfig} from command-line flags and an optional properties file. Every
 * record component is a setting: {@code sessionTimeoutMinMs} is the flag
 * {@code --session-timeout-min-ms} and the property {@code session-timeout-min-ms}. Flags win over
 * the file; the file wins over defaults. Unknown names are errors, never silently ignored.
 */
public final class ConfigParser {
  private static final Map<String, String> HELP = new LinkedHashMap<>();

  static {
    HELP.put("host", "address to listen on for clients");
    HELP.put("port", "client port (0 picks a free one and prints it)");
    HELP.put("data-dir", "where the log and snapshots live");
    HELP.put("server-id", "this server's id, 1..255");
    HELP.put("session-timeout-min-ms", "shortest session timeout a client may negotiate");
    HELP.put("session-timeout-max-ms", "longest session timeout a client may negotiate");
    HELP.put("session-timeout-default-ms", "timeout when the client asks for none");
    HELP.put("data-bytes-max", "largest node value");
    HELP.put("path-bytes-max", "longest path, in UTF-8 bytes");
    HELP.put("request-bytes-max", "largest inbound gRPC message");
    HELP.put("multi-ops-max", "most ops in one multi");
    HELP.put("watches-per-session-max", "most watch registrations one session (or Watch stream) holds");
    HELP.put("children-page-max", "most child names in one GetChildren answer");
    HELP.put("pending-writes-max", "writes queued for the log before new ones get OVERLOADED");
    HELP.put("pending-requests-per-session-max", "requests one session may have in flight");
    HELP.put("outbound-messages-max", "messages queued to a slow stream before it is cut");
    HELP.put("batch-txns-max", "most transactions sharing one fsync");
    HELP.put("batch-bytes-max", "most bytes sharing one fsync");
    HELP.put("recent-results-per-session", "results kept per session to answer retried requests");
    HELP.put("history-events-max", "change events kept so persistent watches can resume");
    HELP.put("history-bytes-max", "bytes of change events kept for resuming watches");
    HELP.put("snapshot-every-txns", "transactions between snapshots");
    HELP.put("segment-bytes-max", "size at which the log rolls to a new segment file");
    HELP.put("housekeeping-interval-ms", "how often session expiry and TTL nodes are checked");
    HELP.put("superuser-digest", "user:base64(sha1(user:password)) of a superuser who bypasses every ACL"
        + " (make one with dev.synod.server.auth.DigestMain); empty: none");
    HELP.put("default-acl", "ACL of a create that gives none: SCHEME:ID:PERMS,... (perms rwcda)");
    HELP.put("members", "the cluster: id=host:peerPort,... (empty: a cluster of one)");
    HELP.put("initial-cluster-state", "for an empty data directory only: new (found the cluster: every"
        + " member, once, at its creation) or existing (join a cluster that has a leader); required"
        + " with members, a cluster of one defaults to new");
    HELP.put("restore", "for an empty data directory only: a backup file (synod backup FILE) to found a"
        + " new cluster from; every member of the new cluster restores the same file (with"
        + " initial-cluster-state new). Ignored once the directory holds anything");
    HELP.put("peer-port", "peer port of a cluster of one (with members set, a member listens on the port"
        + " of its own entry and this is ignored)");
    HELP.put("tick-ms", "consensus clock tick");
    HELP.put("election-ticks-min", "shortest election timeout, in ticks");
    HELP.put("election-ticks-max", "longest election timeout, in ticks (randomized between)");
    HELP.put("heartbeat-ticks", "leader heartbeat interval, in ticks");
    HELP.put("inflight-slots-max", "consensus slots the leader may have undecided at once");
    HELP.put("write-timeout-ms", "how long a write may wait for a leader before LEADER_UNAVAILABLE");
    HELP.put("test-crash-point", "testing only: halt the process at this named storage step");
    HELP.put("tls-cert", "client port TLS: this server's certificate chain (PEM); re-read when it changes");
    HELP.put("tls-key", "client port TLS: the certificate's private key (PEM, PKCS#8 or PKCS#1 RSA)");
    HELP.put("tls-client-ca", "client port: require client certificates issued by these CAs (PEM bundle)");
    HELP.put("x509-identity", "what of a client certificate is its x509 identity (for ACLs): dn (the subject"
        + " DN, RFC 2253), or every subject alternative name of one kind: dns, uri, ip or email");
    HELP.put("peer-tls-cert", "peer port mutual TLS: this member's certificate (a SAN must be its member host)");
    HELP.put("peer-tls-key", "peer port mutual TLS: the member certificate's private key (PEM)");
    HELP.put("peer-tls-ca", "peer port mutual TLS: the CAs that issue member certificates (PEM bundle)");
    HELP.put("allow-plaintext", "serve plaintext on a non-loopback address on purpose (a flag; no value needed)");
    HELP.put("log-format", "text (one line per event) or json (one JSON object per line), on stderr");
    HELP.put("metrics-port", "HTTP port for /metrics (Prometheus), /healthz and /readyz on the client"
        + " host; -1: none, 0: a free one");
  }

  /** Settings that exist for the project's own tests: accepted, but not listed by --help. */
  private static final java.util.Set<String> HIDDEN = java.util.Set.of("test-crash-point");

  private ConfigParser() {}

  public static ServerConfig parse(String... args) throws IOException {
    Map<String, String> values = new LinkedHashMap<>();
    Map<String, String> flags = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + arg + "' (flags look like --port 7070)");
      }
      String name = arg.substring(2);
      String value;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      } else if (isBoolean(name) && (i + 1 >= args.length || args[i + 1].startsWith("--"))) {
        value = "true"; // a switch such as --allow-plaintext needs no value
      } else {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("flag --" + name + " needs a value");
        }
        value = args[++i];
      }
      flags.put(name, value);
    }
    String configFile = flags.remove("config");
    if (configFile != null) {
      Properties props = new Properties();
      try (Reader reader = Files.newBufferedReader(Path.of(configFile))) {
        props.load(reader);
      }
      for (String key : props.stringPropertyNames()) {
        values.put(key.trim(), props.getProperty(key).trim());
      }
    }
    values.putAll(flags);
    return build(values).validate();
  }

  static ServerConfig build(Map<String, String> values) {
    ServerConfig defaults = ServerConfig.defaults();
    RecordComponent[] components = ServerConfig.class.getRecordComponents();
    Object[] args = new Object[components.length];
    Map<String, String> remaining = new LinkedHashMap<>(values);
    try {
      for (int i = 0; i < components.length; i++) {
        RecordComponent c = components[i];
        String name = kebab(c.getName());
        String raw = remaining.remove(name);
        args[i] = raw == null ? c.getAccessor().invoke(defaults) : convert(name, raw, c.getType());
      }
      if (!remaining.isEmpty()) {
        throw new IllegalArgumentException(
            "unknown setting '" + remaining.keySet().iterator().next() + "' (see --help)");
      }
      Class<?>[] types = new Class<?>[components.length];
      for (int i = 0; i < components.length; i++) {
        types[i] = components[i].getType();
      }
      return ServerConfig.class.getDeclaredConstructor(types).newInstance(args);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("ServerConfig is not a plain record", e);
    }
  }

  public static String usage() {
    ServerConfig defaults = ServerConfig.defaults();
    StringBuilder out = new StringBuilder("usage: synod-server [--config FILE] [--setting VALUE ...]\n\n"
        + "Settings are flags (--name value or --name=value) or name=value lines of the --config file;\n"
        + "flags win. Sizes (names with -bytes) take a suffix k, m or g (KiB, MiB, GiB): --data-bytes-max 2m.\n\n");
    for (RecordComponent c : ServerConfig.class.getRecordComponents()) {
      String name = kebab(c.getName());
      if (HIDDEN.contains(name)) {
        continue;
      }
      Object value;
      try {
        value = c.getAccessor().invoke(defaults);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
      if (name.contains("-bytes") && value instanceof Number n) {
        value = sizeText(n.longValue());
      }
      out.append(String.format(Locale.ROOT, "  --%-34s %s (default: %s)%n",
          name, HELP.getOrDefault(name, ""), value));
    }
    return out.toString();
  }

  /** A byte count as --help shows it: with the largest suffix that divides it ("4m", "4096"). */
  static String sizeText(long bytes) {
    String[] suffixes = {"g", "m", "k"};
    int[] shifts = {30, 20, 10};
    for (int i = 0; i < suffixes.length; i++) {
      long unit = 1L << shifts[i];
      if (bytes != 0 && bytes % unit == 0) {
        return (bytes / unit) + suffixes[i];
      }
    }
    return Long.toString(bytes);
  }

  private static Object convert(String name, String raw, Class<?> type) {
    try {
      if (type == String.class) {
        return raw;
      } else if (type == int.class) {
        return Math.toIntExact(parseSize(raw));
      } else if (type == long.class) {
        return parseSize(raw);
      } else if (type == Path.class) {
        return Path.of(raw);
      } else if (type == boolean.class) {
        if (!raw.equalsIgnoreCase("true") && !raw.equalsIgnoreCase("false")) {
          throw new IllegalArgumentException("setting " + name + ": '" + raw + "' is not true or false");
        }
        return Boolean.parseBoolean(raw);
      }
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("setting " + name + ": '" + raw + "' is not a valid number");
    }
    throw new IllegalStateException("unsupported setting type " + type);
  }

  private static boolean isBoolean(String name) {
    for (RecordComponent c : ServerConfig.class.getRecordComponents()) {
      if (kebab(c.getName()).equals(name)) {
        return c.getType() == boolean.class;
      }
    }
    return false;
  }

  /** Accepts plain numbers and the suffixes k, m, g (powers of 1024) for sizes. */
  static long parseSize(String raw) {
    String s = raw.trim().toLowerCase(Locale.ROOT).replace("_", "");
    long multiplier = 1;
    if (s.endsWith("k") || s.endsWith("kib")) {
      multiplier = 1L << 10;
    } else if (s.endsWith("m") || s.endsWith("mib")) {
      multiplier = 1L << 20;
    } else if (s.endsWith("g") || s.endsWith("gib")) {
      multiplier = 1L << 30;
    }
    if (multiplier != 1) {
      s = s.replaceAll("[a-z]+$", "");
    }
    return Math.multiplyExact(Long.parseLong(s), multiplier);
  }

  static String kebab(String camel) {
    StringBuilder out = new StringBuilder();
    for (char ch : camel.toCharArray()) {
      if (Character.isUpperCase(ch)) {
        out.append('-').append(Character.toLowerCase(ch));
      } else {
        out.append(ch);
      }
    }
    return out.toString();
  }
}
