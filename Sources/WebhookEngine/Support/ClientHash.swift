/// FNV-1a of a client id: which lane a client's events take, and the hash
/// the spool keeps with each row, so a restart with another lane count
/// still finds every client's lane.
enum ClientHash {
    static func of(_ clientID: UnsafeRawBufferPointer?) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in clientID ?? UnsafeRawBufferPointer(start: nil, count: 0) {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }
}
