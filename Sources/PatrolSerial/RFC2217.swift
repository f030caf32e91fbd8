/// The Telnet and RFC 2217 (Telnet COM Port Control) codes ``NetworkSerialPort`` speaks.
enum RFC2217 {
    static let interpretAsCommand: UInt8 = 255
    static let subnegotiationBegin: UInt8 = 250
    static let subnegotiationEnd: UInt8 = 240
    static let will: UInt8 = 251
    static let wont: UInt8 = 252
    static let `do`: UInt8 = 253
    static let dont: UInt8 = 254

    static let binaryOption: UInt8 = 0
    static let comPortOption: UInt8 = 44

    /// Client-to-server commands; the server answers with the code plus ``serverOffset``.
    enum Command: UInt8 {
        case setBaudRate = 1, setDataSize = 2, setParity = 3, setStopSize = 4, setControl = 5
        case notifyModemState = 7
        case setModemStateMask = 11
    }

    static let serverOffset: UInt8 = 100

    /// SET-CONTROL values for the two outputs.
    static func controlValue(_ line: ModemLines, on: Bool) -> UInt8 {
        line == .dtr ? (on ? 8 : 9) : (on ? 11 : 12)
    }

    /// The state bits of a NOTIFY-MODEMSTATE byte (the low four bits are deltas).
    static let modemStateBits: [(bit: UInt8, line: ModemLines)] = [(0x10, .cts), (0x20, .dsr), (0x40, .ri), (0x80, .dcd)]

    /// A COM-PORT-OPTION subnegotiation, with 255s in the value doubled as Telnet requires.
    static func subnegotiation(_ command: Command, _ value: [UInt8]) -> [UInt8] {
        [interpretAsCommand, subnegotiationBegin, comPortOption, command.rawValue] + escaped(value)
            + [interpretAsCommand, subnegotiationEnd]
    }

    /// Data with every 255 doubled, so that it is not read as a command.
    static func escaped(_ bytes: [UInt8]) -> [UInt8] {
        bytes.flatMap { $0 == interpretAsCommand ? [$0, $0] : [$0] }
    }
}

/// Splits what a serial server sends into serial data, modem states and option negotiations.
///
/// Keeps a command cut between two reads for the next call. A subnegotiation is kept only up to
/// `maximumSubnegotiationBytes` (the ones that matter have three): a server that opens one and
/// never closes it cannot make the agent buffer without bound.
struct RFC2217Decoder {
    static let maximumSubnegotiationBytes = 64

    struct Output {
        var data: [UInt8] = []
        var modemStates: [UInt8] = []
        /// Negotiations the server started (`verb`, `option`), to be refused unless we asked for them.
        var negotiations: [(verb: UInt8, option: UInt8)] = []
    }

    private enum Phase {
        case data, command, option(verb: UInt8), subnegotiation, subnegotiationCommand
    }

    private var phase = Phase.data
    private(set) var subnegotiation: [UInt8] = []
    /// The current subnegotiation was longer than kept: it is ignored when it ends.
    private var subnegotiationOverlong = false

    mutating func decode(_ bytes: [UInt8]) -> Output {
        var output = Output()
        for byte in bytes {
            switch phase {
            case .data:
                if byte == RFC2217.interpretAsCommand { phase = .command } else { output.data.append(byte) }
            case .command:
                switch byte {
                case RFC2217.interpretAsCommand:
                    output.data.append(byte)
                    phase = .data
                case RFC2217.will, RFC2217.wont, RFC2217.do, RFC2217.dont:
                    phase = .option(verb: byte)
                case RFC2217.subnegotiationBegin:
                    subnegotiation.removeAll()
                    subnegotiationOverlong = false
                    phase = .subnegotiation
                default:
                    phase = .data // NOP, go-ahead and the like carry nothing for a serial line
                }
            case .option(let verb):
                output.negotiations.append((verb, byte))
                phase = .data
            case .subnegotiation:
                if byte == RFC2217.interpretAsCommand { phase = .subnegotiationCommand } else { keepSubnegotiation(byte) }
            case .subnegotiationCommand:
                if byte == RFC2217.interpretAsCommand {
                    keepSubnegotiation(byte)
                    phase = .subnegotiation
                } else {
                    finishSubnegotiation(into: &output)
                    phase = .data
                }
            }
        }
        return output
    }

    private mutating func keepSubnegotiation(_ byte: UInt8) {
        if subnegotiation.count < Self.maximumSubnegotiationBytes {
            subnegotiation.append(byte)
        } else {
            subnegotiationOverlong = true
        }
    }

    private func finishSubnegotiation(into output: inout Output) {
        let notify = RFC2217.Command.notifyModemState.rawValue + RFC2217.serverOffset
        guard !subnegotiationOverlong, subnegotiation.count == 3, subnegotiation[0] == RFC2217.comPortOption, subnegotiation[1] == notify
        else { return } // answers to our settings and line-state reports change nothing here
        output.modemStates.append(subnegotiation[2])
    }
}
