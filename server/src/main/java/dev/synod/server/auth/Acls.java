package dev.synod.server.auth;

import dev.synod.api.v1.Acl;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.Identity;
import dev.synod.server.state.SynodException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * ZooKeeper's ACL rules: the schemes, which ids are well formed, which identity an entry grants,
 * the {@code auth} scheme, and the superuser. Pure functions of their arguments (no setting, no
 * clock, no name lookup: an ip id is parsed as a literal only), so apply may call them and every
 * replica decides alike.
 *
 * <p>A check passes when the caller is the superuser, or when some entry whose permissions include
 * any of the asked bits grants one of the caller's identities: {@code world:anyone} grants
 * everybody; {@code digest} and {@code x509} ids match an identity of the same scheme exactly;
 * an {@code ip} id (an address or a CIDR) matches an ip identity inside it. An empty ACL grants
 * everything (ZooKeeper's rule; Synod never stores one).
 */
public final class Acls {
  public static final String WORLD = "world";
  public static final String ANYONE = "anyone";
  public static final String DIGEST = "digest";
  public static final String IP = "ip";
  public static final String X509 = "x509";
  public static final String AUTH = "auth";
  /** The identity scheme of the superuser; not valid in an ACL. */
  public static final String SUPER = "super";

  public static final int READ = 1;
  public static final int WRITE = 2;
  public static final int CREATE = 4;
  public static final int DELETE = 8;
  public static final int ADMIN = 16;
  public static final int ALL = 31;

  public static final Acl WORLD_ANYONE_ALL =
      Acl.newBuilder().setScheme(WORLD).setId(ANYONE).setPerms(ALL).build();

  private Acls() {}

  /**
   * Refuses (INVALID_ACL) an entry with an unknown scheme, a malformed id, or permissions outside
   * 1..31. Entries of the {@code auth} scheme are valid here; {@link #resolve} replaces them.
   */
  public static void checkEntries(List<Acl> acl, String path) throws SynodException {
    for (int i = 0; i < acl.size(); i++) {
      Acl entry = acl.get(i);
      if (entry.getPerms() < 1 || entry.getPerms() > ALL) {
        throw invalid("acl entry " + i + " has perms " + entry.getPerms() + ", not within 1..31", path);
      }
      String problem = idProblem(entry.getScheme(), entry.getId());
      if (problem != null) {
        throw invalid("acl entry " + i + " (" + entry.getScheme() + "): " + problem, path);
      }
    }
  }

  /** Why {@code id} is not a valid id of {@code scheme}, or null when it is. */
  static String idProblem(String scheme, String id) {
    switch (scheme) {
      case WORLD:
        return ANYONE.equals(id) ? null : "the world scheme's only id is 'anyone'";
      case DIGEST: {
        int colon = id.indexOf(':');
        boolean ok = colon > 0 && colon < id.length() - 1 && id.indexOf(':', colon + 1) < 0;
        return ok ? null : "a digest id is user:base64(sha1(user:password))";
      }
      case IP:
        return Cidr.parse(id) != null ? null : "an ip id is an IPv4/IPv6 address or a CIDR (10.0.0.0/8)";
      case X509:
        return id.isEmpty() ? "an x509 id names a client certificate: its subject DN, or a SAN (--x509-identity)" : null;
      case AUTH:
        return null; // replaced at create/set_acl by the caller's identities; the id is ignored
      case "":
        return "the scheme is missing";
      default:
        return "unknown scheme '" + scheme + "' (world, digest, ip, x509, auth)";
    }
  }

  /**
   * The ACL with every {@code auth} entry replaced by one entry (same permissions) per identity
   * of the caller that a credential or certificate proved (digest, x509; not ip, not super), as
   * ZooKeeper's fixupACL does. INVALID_ACL when an auth entry meets a caller who proved none.
   */
  public static List<Acl> resolve(List<Acl> acl, Identities who, String path) throws SynodException {
    boolean hasAuth = false;
    for (Acl entry : acl) {
      hasAuth |= AUTH.equals(entry.getScheme());
    }
    if (!hasAuth) {
      return acl;
    }
    List<Acl> resolved = new ArrayList<>();
    for (Acl entry : acl) {
      if (!AUTH.equals(entry.getScheme())) {
        add(resolved, entry);
        continue;
      }
      boolean any = false;
      for (Identity id : who.list()) {
        if (DIGEST.equals(id.getScheme()) || X509.equals(id.getScheme())) {
          add(resolved, Acl.newBuilder().setScheme(id.getScheme()).setId(id.getId())
              .setPerms(entry.getPerms()).build());
          any = true;
        }
      }
      if (!any) {
        throw invalid("the auth scheme needs a caller with a proved identity (digest or x509);"
            + " this one has none", path);
      }
    }
    return resolved;
  }

  private static void add(List<Acl> out, Acl entry) {
    if (!out.contains(entry)) {
      out.add(entry);
    }
  }

  /** Whether {@code acl} grants any of {@code perms} to {@code who}. */
  public static boolean permits(List<Acl> acl, int perms, Identities who) {
    if (who.isSuper() || acl.isEmpty()) {
      return true;
    }
    for (Acl entry : acl) {
      if ((entry.getPerms() & perms) == 0) {
        continue;
      }
      String scheme = entry.getScheme();
      if (WORLD.equals(scheme) && ANYONE.equals(entry.getId())) {
        return true;
      }
      for (Identity id : who.list()) {
        if (!scheme.equals(id.getScheme())) {
          continue;
        }
        if (IP.equals(scheme)) {
          Cidr range = Cidr.parse(entry.getId());
          if (range != null && range.contains(id.getId())) {
            return true;
          }
        } else if (entry.getId().equals(id.getId())) {
          return true;
        }
      }
    }
    return false;
  }

  /** NO_AUTH unless {@code acl} grants any of {@code perms} to {@code who}. */
  public static void check(List<Acl> acl, int perms, Identities who, String path)
      throws SynodException {
    if (!permits(acl, perms, who)) {
      throw new SynodException(ErrorReason.NO_AUTH, "not authorized: "
          + names(perms) + " on this node is not granted to " + describe(who), path);
    }
  }

  private static String describe(Identities who) {
    return who.list().isEmpty() ? "an anonymous caller" : "any of " + who;
  }

  /** Permission bits as ZooKeeper's letters (r, w, c, d, a): "READ|ADMIN" style names. */
  public static String names(int perms) {
    List<String> names = new ArrayList<>();
    if ((perms & READ) != 0) names.add("READ");
    if ((perms & WRITE) != 0) names.add("WRITE");
    if ((perms & CREATE) != 0) names.add("CREATE");
    if ((perms & DELETE) != 0) names.add("DELETE");
    if ((perms & ADMIN) != 0) names.add("ADMIN");
    return String.join(" or ", names);
  }

  /** Permission bits as zkCli's letters, in its order "cdrwa" (e.g. 31 → "cdrwa", 1 → "r"). */
  public static String letters(int perms) {
    StringBuilder out = new StringBuilder();
    if ((perms & CREATE) != 0) out.append('c');
    if ((perms & DELETE) != 0) out.append('d');
    if ((perms & READ) != 0) out.append('r');
    if ((perms & WRITE) != 0) out.append('w');
    if ((perms & ADMIN) != 0) out.append('a');
    return out.toString();
  }

  /** "scheme:id:letters", the form {@link #parse} reads. */
  public static String format(Acl entry) {
    return entry.getScheme() + ":" + entry.getId() + ":" + letters(entry.getPerms());
  }

  /** Parses zkCli permission letters ("rwcda", any order) or a number 1..31. */
  public static int parsePerms(String text) {
    if (!text.isEmpty() && text.chars().allMatch(Character::isDigit)) {
      return Integer.parseInt(text);
    }
    int perms = 0;
    for (char c : text.toLowerCase(Locale.ROOT).toCharArray()) {
      perms |= switch (c) {
        case 'r' -> READ;
        case 'w' -> WRITE;
        case 'c' -> CREATE;
        case 'd' -> DELETE;
        case 'a' -> ADMIN;
        default -> throw new IllegalArgumentException("unknown permission letter '" + c + "' (rwcda)");
      };
    }
    return perms;
  }

  /** A comma not escaped (RFC 2253 escapes commas in values) and followed by a scheme's name and ':'. */
  private static final java.util.regex.Pattern ENTRY_SEPARATOR =
      java.util.regex.Pattern.compile("(?<!\\\\),(?=\\s*[A-Za-z][A-Za-z0-9]*:)");

  /**
   * Parses "scheme:id:perms" (the id may hold colons, as a digest does; perms as letters rwcda
   * or a number), e.g. "world:anyone:r", "digest:bob:Zm9v=:cdrwa", "ip:10.0.0.0/8:rw".
   */
  public static Acl parse(String text) {
    int first = text.indexOf(':');
    int last = text.lastIndexOf(':');
    if (first < 0 || last == first) {
      throw new IllegalArgumentException("an ACL entry is SCHEME:ID:PERMS, e.g. world:anyone:r, got '" + text + "'");
    }
    return Acl.newBuilder().setScheme(text.substring(0, first)).setId(text.substring(first + 1, last))
        .setPerms(parsePerms(text.substring(last + 1))).build();
  }

  /**
   * Parses a comma-separated list of {@link #parse} entries. A comma separates entries only where
   * the next entry's {@code SCHEME:} follows, so an x509 id (a DN, whose RDNs are separated by
   * commas too, {@code x509:CN=app,O=Example:r}) stays whole: an RDN's type is followed by '='.
   */
  public static List<Acl> parseList(String text) {
    List<Acl> acl = new ArrayList<>();
    for (String part : ENTRY_SEPARATOR.split(text)) {
      if (!part.isBlank()) {
        acl.add(parse(part.trim()));
      }
    }
    return acl;
  }

  private static SynodException invalid(String message, String path) {
    return new SynodException(ErrorReason.INVALID_ACL, message, path);
  }
}
