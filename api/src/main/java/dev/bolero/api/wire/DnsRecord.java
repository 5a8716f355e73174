package dev.bolero.api.wire;

/**
 * A running machine as a node's internal DNS answers for it, in the node's assignments.
 *
 * @param fleet its fleet; null when it belongs to none
 * @param name its name in its namespace
 * @param privateIp its private address, as its node reported it
 */
public record DnsRecord(String machineId, String namespace, String fleet, String name, String privateIp) {}
