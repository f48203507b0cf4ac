package dev.synod.client;

import dev.synod.api.v1.WatchKind;

/** What the server registers a watch under: a path and a kind. */
record WatchKey(String path, WatchKind kind) {}
