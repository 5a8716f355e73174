package dev.bolero.api;

/**
 * Response of {@code POST /api/v1/machines/{id}/exec}.
 *
 * @param exitCode the command's exit code, or 128+N when signal N killed it
 * @param stdout its standard output as UTF-8 (at most 4 MiB; see {@code truncated})
 * @param stderr its standard error
 * @param timedOut whether the timeout killed it
 * @param truncated whether output beyond 4 MiB per stream was dropped
 */
public record ExecResult(int exitCode, String stdout, String stderr, boolean timedOut, boolean truncated) {}
