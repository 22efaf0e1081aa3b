// A value that one thread read from a buffer, made uniform for the whole workgroup: loop bounds around
// barriers must be uniform, and WGSL's analysis treats every storage read as non-uniform.
var<workgroup> broadcast_slot: u32;

fn broadcast(value: u32, lid: u32) -> u32 {
  if (lid == 0u) { broadcast_slot = value; }
  let u = workgroupUniformLoad(&broadcast_slot);
  workgroupBarrier();
  return u;
}
