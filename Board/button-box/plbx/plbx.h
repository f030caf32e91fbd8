/*
 * plbx: the button box's side of the PLBX line protocol (protocol 1 and PLBX 2), as portable C99.
 *
 * Pure logic with no I/O of its own, so that the very same code runs in the ATmega328P firmware
 * and in the host unit tests. The platform feeds it time (plbx_tick), the raw contact states
 * (plbx_contacts) and received bytes (plbx_rx_byte); the box writes frames, EEPROM bytes and asks
 * for randomness through the callbacks in plbx_platform, and says which LEDs and the buzzer are
 * lit in plbx_outputs(). The protocol is Board/button-box-protocol.md; the EEPROM layout and the
 * state machine are described in Board/button-box/README.md.
 */
#ifndef PLBX_H
#define PLBX_H

#include <stdbool.h>
#include <stdint.h>

#define PLBX_CONTACTS 16      /* buttons 1…16, bit 0 of a mask = button 1 */
#define PLBX_LEDS 4           /* LEDs 1…4 (LED frames for other numbers are ignored) */
#define PLBX_BUZZER_BIT 4     /* bit of plbx_outputs() that is the buzzer */
#define PLBX_QUEUE 8          /* unconfirmed PLBX 2 presses kept (RAM mirrored in EEPROM) */
#define PLBX_FRAME_MAX 82     /* bytes of a frame including '$' and CR LF */
#define PLBX_DEBOUNCE_MS 20u  /* a contact must read the same this long to count */
#define PLBX_REPEAT_MS 250u   /* repeat period of an acked frame (HELLO, protocol 1 DOWN/UP) */
#define PLBX_REPEATS 20u      /* repeats of an acked frame before giving up (or falling back to 1) */
#define PLBX_HB_MS 1000u      /* heartbeat period; also the DOWN repeat period */
#define PLBX_PRESS_GAP_MS 100u /* at most one PLBX 2 DOWN/UP frame per this many ms */
#define PLBX_P1_QUEUE 8       /* protocol 1 DOWN/UP frames waiting for their turn */

/* Bytes of EEPROM the box uses from address 0 (two counter slots and the press queue). */
#define PLBX_STORAGE_BYTES (2 * 16 + PLBX_QUEUE * 16)

typedef struct plbx_platform {
    void *ctx;
    /* Queues bytes for the serial line; never fails (the firmware waits for room). */
    void (*tx)(void *ctx, const char *bytes, uint8_t length);
    void (*storage_read)(void *ctx, uint16_t address, void *bytes, uint8_t length);
    /* Must write the bytes in address order (a power loss leaves a prefix written). */
    void (*storage_write)(void *ctx, uint16_t address, const void *bytes, uint8_t length);
    /* Only used when the EEPROM is first initialised, to choose the incarnation. */
    uint32_t (*random32)(void *ctx);
} plbx_platform;

enum plbx_mode {
    PLBX_OFFERING,   /* HELLO with "2" sent, no answer yet: presses are queued, not sent */
    PLBX_PROTOCOL2,  /* PROTO,2 (or the ACK of our 6-field HELLO) seen: numbered presses */
    PLBX_PROTOCOL1   /* fallback or the protocol 1 jumper: acked DOWN/UP as protocol 1 */
};

enum plbx_press_state { PLBX_FREE = 0, PLBX_HELD, PLBX_RELEASED, PLBX_RESUMED };

/* One unconfirmed PLBX 2 press. */
typedef struct plbx_press {
    uint32_t press;          /* 1…4294967295 */
    uint32_t held_base_ms;   /* HELD: hold time at since_ms; RELEASED: the whole hold time */
    uint32_t since_ms;
    uint32_t next_send_ms;
    uint32_t next_persist_ms; /* HELD: hold time at which to persist the lower bound next */
    uint8_t button;          /* 1…16 */
    uint8_t state;           /* enum plbx_press_state */
    uint8_t sends;           /* UP frames sent (4 quick repeats, then every second) */
    bool after_reset;        /* the box was reset while this press was held: UP carries R */
} plbx_press;

typedef struct plbx_acked {
    bool pending;
    uint16_t seq;
    uint8_t repeats;
    uint32_t sent_ms;
} plbx_acked;

/* Counters a test or a technician's debug build can read. */
typedef struct plbx_counters {
    uint16_t rx_frames;      /* frames accepted */
    uint16_t rx_rejected;    /* bad checksum, overlong, unknown type, wrong fields, out of range */
    uint16_t presses_dropped; /* queue full with no press of the same button to replace */
    uint16_t presses_replaced;
} plbx_counters;

typedef struct plbx_box {
    plbx_platform platform;
    const char *box_id;
    const char *firmware;
    bool protocol1_only;

    uint32_t now_ms;
    uint32_t boot_ms;
    uint32_t second_mark_ms;
    uint32_t uptime_s;
    bool settled;            /* the contacts have been read long enough after boot */

    uint16_t seq;            /* number of our next new frame */
    uint8_t mode;            /* enum plbx_mode */
    plbx_acked hello;
    bool hello_offers_2;     /* the pending HELLO is the 6-field one */
    uint32_t hello_uptime_s; /* a repeated frame is the same frame */

    uint32_t incarnation;
    uint32_t last_press;

    uint16_t raw;            /* contacts as last read (bit set = closed) */
    uint16_t stable;         /* debounced */
    uint32_t raw_changed_ms[PLBX_CONTACTS];

    plbx_press queue[PLBX_QUEUE];
    uint32_t last_press_frame_ms;
    bool press_frame_sent;

    /* Protocol 1: DOWN/UP frames sent one at a time, each repeated until acked. */
    struct { uint8_t button; bool down; } p1_queue[PLBX_P1_QUEUE];
    uint8_t p1_count;
    plbx_acked p1_head;

    uint8_t pattern[PLBX_LEDS + 1];
    uint32_t pattern_start_ms[PLBX_LEDS + 1];
    uint8_t outputs;         /* bit i = LED i+1 lit, bit PLBX_BUZZER_BIT = buzzer on */

    char rx[PLBX_FRAME_MAX];
    uint8_t rx_length;
    bool rx_in_frame;

    plbx_counters counters;
} plbx_box;

/*
 * Starts the box at time now_ms: reads the counter and the press queue from storage (initialising
 * it, with a new incarnation, when it holds no valid counter), and sends HELLO.
 */
void plbx_init(plbx_box *box, const plbx_platform *platform, const char *box_id,
               const char *firmware, bool protocol1_only, uint32_t now_ms);
/* The contacts as read now (bit set = closed); debounced in plbx_tick. */
void plbx_contacts(plbx_box *box, uint16_t closed);
void plbx_rx_byte(plbx_box *box, uint8_t byte);
/* Advances to now_ms (wrapping ms clock): debounce, resend, heartbeat, LED patterns. */
void plbx_tick(plbx_box *box, uint32_t now_ms);

static inline uint8_t plbx_outputs(const plbx_box *box) { return box->outputs; }

/* The press numbers this box has not had confirmed, oldest first; returns how many. */
uint8_t plbx_unconfirmed(const plbx_box *box, uint32_t presses[PLBX_QUEUE]);

#endif
