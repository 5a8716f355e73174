package dev.bolero.oci;

/**
 * What {@link ImageStore#collectGarbage()} removed.
 *
 * @param blobs blobs no stored image refers to
 * @param bytes the bytes those blobs took
 * @param temporaries temporary files and trees left by interrupted pulls and builds
 */
public record GcReport(int blobs, long bytes, int temporaries) {}
