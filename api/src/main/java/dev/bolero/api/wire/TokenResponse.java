package dev.bolero.api.wire;

/** A new API token, shown once: the server keeps only its SHA-256. */
public record TokenResponse(String token) {}
