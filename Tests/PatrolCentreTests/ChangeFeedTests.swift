import PatrolCentre
import Testing

/// The change feed the console's live updates ride on: every subscriber gets every change in order,
/// and one that stops reading costs at most its buffer, then is told to resync.
@Suite struct ChangeFeedTests {
    @Test func everySubscriberGetsEveryChangeInOrder() async {
        let feed = ChangeFeed<Int>(capacity: 8)
        let first = feed.subscribe(), second = feed.subscribe()
        for change in 1...5 { feed.publish(change) }
        for subscription in [first, second] {
            var received: [Int] = []
            for await change in subscription.changes {
                received.append(change)
                if received.count == 5 { break }
            }
            #expect(received == [1, 2, 3, 4, 5])
            #expect(!subscription.overflowed)
        }
    }

    @Test(.timeLimit(.minutes(1))) func aSubscriberThatFallsBehindIsEndedAndToldToResync() async {
        let feed = ChangeFeed<Int>(capacity: 4)
        let slow = feed.subscribe()
        for change in 1...10 { feed.publish(change) }
        var received: [Int] = []
        for await change in slow.changes { received.append(change) }
        #expect(received == [1, 2, 3, 4], "the buffered changes, then the end of the stream")
        #expect(slow.overflowed)
        #expect(feed.subscriberCount == 0, "the slow subscriber is forgotten; publishing no longer holds anything for it")
        feed.publish(11)
    }
}
