package dev.synod.server.auth;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * An ip ACL id: an IPv4 or IPv6 address literal, optionally with a prefix length. Parsed without
 * name lookups (a host name is not an ip id), so ACL checks in apply never touch the network.
 */
final class Cidr {
  private final byte[] address;
  private final int bits;

  private Cidr(byte[] address, int bits) {
    this.address = address;
    this.bits = bits;
  }

  /** The range, or null when {@code text} is not an address literal with an optional /bits. */
  static Cidr parse(String text) {
    int slash = text.indexOf('/');
    String addr = slash < 0 ? text : text.substring(0, slash);
    byte[] bytes = literal(addr);
    if (bytes == null) {
      return null;
    }
    int bits = bytes.length * 8;
    if (slash >= 0) {
      String b = text.substring(slash + 1);
      if (b.isEmpty() || b.length() > 3 || !b.chars().allMatch(Character::isDigit)) {
        return null;
      }
      bits = Integer.parseInt(b);
      if (bits > bytes.length * 8) {
        return null;
      }
    }
    return new Cidr(bytes, bits);
  }

  /** Whether the address literal {@code text} lies in this range. */
  boolean contains(String text) {
    byte[] other = literal(text);
    if (other == null || other.length != address.length) {
      return false;
    }
    for (int i = 0; i < bits; i++) {
      int mask = 0x80 >>> (i % 8);
      if ((address[i / 8] & mask) != (other[i / 8] & mask)) {
        return false;
      }
    }
    return true;
  }

  private static byte[] literal(String text) {
    if (text.isEmpty()) {
      return null;
    }
    if (text.indexOf(':') >= 0) {
      // IPv6: only hex digits, colons and dots (an embedded IPv4 tail), so never a name lookup.
      for (char c : text.toCharArray()) {
        if (Character.digit(c, 16) < 0 && c != ':' && c != '.') {
          return null;
        }
      }
      try {
        return InetAddress.getByName(text).getAddress();
      } catch (UnknownHostException e) {
        return null;
      }
    }
    String[] parts = text.split("\\.", -1);
    if (parts.length != 4) {
      return null;
    }
    byte[] bytes = new byte[4];
    for (int i = 0; i < 4; i++) {
      String p = parts[i];
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)) {
        return null;
      }
      int v = Integer.parseInt(p);
      if (v > 255) {
        return null;
      }
      bytes[i] = (byte) v;
    }
    return bytes;
  }
}
