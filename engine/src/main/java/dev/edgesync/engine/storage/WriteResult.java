package dev.edgesync.engine.storage;

import dev.edgesync.conflict.Version;

/**
 * A committed local write.
 *
 * @param version the version the write got
 * @param seq the local seq it was stored under
 */
public record WriteResult(Version version, long seq) {}
