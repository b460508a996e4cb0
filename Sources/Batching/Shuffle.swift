import Support

/// How an epoch orders the training samples (`--shuffle`). Both orders are functions of
/// (count, seed, epoch) alone: every rank, thread or machine computes the same one.
public enum Shuffle: Sendable, Equatable, CustomStringConvertible {
    /// A uniform permutation of all samples (`epochPermutation`): every sample's row anywhere
    /// in the file — one page read a sample when the data do not fit in memory.
    case global
    /// Blocks of `rows` consecutive samples in a random order, and the samples of each window of
    /// `Shuffle.window` consecutive blocks of that order in a random order among themselves:
    /// reads come as runs of whole blocks, a window's blocks at a time.
    case blocks(rows: Int)

    /// Blocks whose samples mix.
    public static let window = 8
    /// The rows a block may have.
    public static let blockRows = 1...(1 << 24)

    /// `global` or `blocks:R`; errors name `--shuffle`.
    public init(parsing text: String) throws {
        func fail(_ problem: String) -> TrainerError { TrainerError(.usage, subject: "--shuffle \(text)", problem) }
        if text == "global" { self = .global; return }
        guard text.hasPrefix("blocks:") else { throw fail("must be global or blocks:R (R rows a block)") }
        guard let rows = Int(text.dropFirst("blocks:".count)), Self.blockRows.contains(rows) else {
            throw fail("R of blocks:R must be a whole number from 1 to \(Self.blockRows.upperBound)")
        }
        self = .blocks(rows: rows)
    }

    public var description: String {
        switch self {
        case .global: return "global"
        case .blocks(let rows): return "blocks:\(rows)"
        }
    }

    /// The order of epoch `epoch`: a permutation of 0..<count, and its windows of blocks.
    public func order(count: Int, seed: UInt64, epoch: Int) -> EpochOrder {
        switch self {
        case .global:
            return EpochOrder(samples: epochPermutation(count: count, seed: seed, epoch: epoch), windows: [])
        case .blocks(let rows):
            let blocks = (count + rows - 1) / rows
            let index = UInt64(truncatingIfNeeded: epoch)
            let blockOrder = seededPermutation(count: blocks, seed: seed, stream: .blockPermutation, index: index)
            var order = [Int32](), windows: [EpochOrder.Window] = []
            order.reserveCapacity(count)
            for first in stride(from: 0, to: blocks, by: Self.window) {
                let start = order.count
                let ranges = blockOrder[first..<min(first + Self.window, blocks)].map { Int($0) * rows..<min(Int($0) * rows + rows, count) }
                for range in ranges { order.append(contentsOf: Int32(range.lowerBound)..<Int32(range.upperBound)) }
                windows.append(EpochOrder.Window(start: start, blocks: ranges))
                // Fisher–Yates over the window's samples, by a generator of its own.
                var random = PortableRandom(seed: seed, stream: .blockWindow, index: index &* 0x1_0000_0000 &+ UInt64(first / Self.window))
                var last = order.count - 1
                while last > start {
                    order.swapAt(last, start + random.next(below: last - start + 1))
                    last -= 1
                }
            }
            return EpochOrder(samples: order, windows: windows)
        }
    }
}

/// An epoch's order of samples (`Shuffle.order`).
public struct EpochOrder: Sendable {
    /// A window of `Shuffle.blocks`: where in the order its samples start, and the ranges of
    /// consecutive samples (its blocks) they are drawn from.
    public struct Window: Sendable, Equatable {
        public let start: Int
        public let blocks: [Range<Int>]
    }

    public let samples: [Int32]
    /// The windows, in order (none for `Shuffle.global`).
    public let windows: [Window]

    /// The window after the one that holds position `position` (nil: none, or no windows).
    public func window(after position: Int) -> Window? {
        // The first window starting after `position` (binary search: the starts ascend).
        var low = 0, high = windows.count
        while low < high {
            let middle = (low + high) / 2
            if windows[middle].start <= position { low = middle + 1 } else { high = middle }
        }
        return low > 0 && low < windows.count ? windows[low] : nil
    }
}
