package dev.synod.server;

/** The server's version, as reported by the Status call. */
public final class Version {
  public static final String VERSION = "0.1.0";

  private Version() {}
}
