package dev.synod.client;

import dev.synod.api.v1.Stat;

/** A node's value and stat. */
public record NodeData(byte[] data, Stat stat) {}
