package dev.synod.client.recipes;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;

/**
 * One registered instance of a service: its service name, an id unique within the service, an
 * address (free-form, e.g. {@code host:port} or a URL) and string metadata. Stored as the value of
 * the instance's node in form encoding ({@code id=...&address=...&meta.zone=eu}), readable from any
 * language.
 */
public record ServiceInstance(String service, String id, String address, Map<String, String> metadata) {
  private static final String META = "meta.";

  public ServiceInstance {
    RecipeNodes.requireName(service, "service");
    RecipeNodes.requireName(id, "id");
    if (address == null) {
      throw new IllegalArgumentException("address must not be null (use \"\" for none)");
    }
    metadata = metadata == null ? Map.of() : Map.copyOf(new TreeMap<>(metadata));
  }

  public ServiceInstance(String service, String id, String address) {
    this(service, id, address, Map.of());
  }

  /** A copy with other metadata (for {@link ServiceRegistry#update}). */
  public ServiceInstance withMetadata(Map<String, String> newMetadata) {
    return new ServiceInstance(service, id, address, newMetadata);
  }

  byte[] encode() {
    StringJoiner form = new StringJoiner("&");
    form.add("id=" + enc(id)).add("address=" + enc(address));
    new TreeMap<>(metadata).forEach((k, v) -> form.add(enc(META + k) + "=" + enc(v)));
    return form.toString().getBytes(UTF_8);
  }

  /**
   * Decodes a node value written by {@link #encode()}.
   *
   * @throws IllegalArgumentException if it is not such a value
   */
  static ServiceInstance decode(String service, String nodeName, byte[] data) {
    String text = new String(data, UTF_8);
    String id = null;
    String address = null;
    Map<String, String> meta = new TreeMap<>();
    if (!text.isEmpty()) {
      for (String pair : text.split("&")) {
        int eq = pair.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException("not a service instance (bad field '" + pair + "') in " + nodeName);
        }
        String key = URLDecoder.decode(pair.substring(0, eq), UTF_8);
        String value = URLDecoder.decode(pair.substring(eq + 1), UTF_8);
        if (key.equals("id")) {
          id = value;
        } else if (key.equals("address")) {
          address = value;
        } else if (key.startsWith(META)) {
          meta.put(key.substring(META.length()), value);
        }
      }
    }
    if (id == null || address == null) {
      throw new IllegalArgumentException("not a service instance (no id or address) in " + nodeName);
    }
    if (!id.equals(nodeName)) {
      throw new IllegalArgumentException("instance id '" + id + "' does not match its node name " + nodeName);
    }
    return new ServiceInstance(service, id, address, meta);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, UTF_8);
  }
}
