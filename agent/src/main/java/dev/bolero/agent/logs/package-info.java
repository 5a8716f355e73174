/**
 * Machine logs on disk: the workload's stdout/stderr lines ({@code workload.log}, each line stamped with time and
 * stream) and the raw serial console the VMM writes ({@code console.log}), with reading and following.
 */
package dev.bolero.agent.logs;
