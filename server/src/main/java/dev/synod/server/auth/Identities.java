package dev.synod.server.auth;

import dev.synod.api.v1.Identity;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The identities a caller proved on its connection: its credentials (digest), its address (ip),
 * its certificate (x509), and {@code super} when it proved the superuser's digest. Immutable;
 * ordered as proved, without duplicates. Never holds a credential: a digest identity is a hash.
 */
public final class Identities {
  /** Someone who proved nothing: only world:anyone entries grant them anything. */
  public static final Identities ANONYMOUS = new Identities(List.of());

  private final List<Identity> list;

  private Identities(List<Identity> list) {
    this.list = List.copyOf(list);
  }

  public static Identities of(List<Identity> identities) {
    if (identities.isEmpty()) {
      return ANONYMOUS;
    }
    if (identities.size() == 1) {
      return new Identities(List.of(identities.get(0))); // most writes: nothing to dedupe (one per apply)
    }
    return new Identities(new ArrayList<>(new LinkedHashSet<>(identities)));
  }

  public static Identity identity(String scheme, String id) {
    return Identity.newBuilder().setScheme(scheme).setId(id).build();
  }

  public List<Identity> list() {
    return list;
  }

  /** These and {@code more}, in that order, without duplicates. */
  public Identities plus(List<Identity> more) {
    if (more.isEmpty()) {
      return this;
    }
    List<Identity> all = new ArrayList<>(list);
    all.addAll(more);
    return of(all);
  }

  public Identities plus(Identities more) {
    return plus(more.list);
  }

  /** Whether the caller proved the superuser's digest: every ACL grants it everything. */
  public boolean isSuper() {
    for (Identity id : list) {
      if (Acls.SUPER.equals(id.getScheme())) {
        return true;
      }
    }
    return false;
  }

  /** "scheme:id" of each identity, for messages (identities are not secrets). */
  @Override
  public String toString() {
    List<String> names = new ArrayList<>(list.size());
    for (Identity id : list) {
      names.add(id.getScheme() + ":" + id.getId());
    }
    return names.toString();
  }
}
