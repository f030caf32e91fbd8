/*
 * The box's side of PLBX (see plbx.h). Times are a wrapping 32-bit ms clock: every comparison is
 * a difference, so the box runs for years without a jump at 49.7 days.
 */
#include "plbx.h"

#include <string.h>

/* ---- EEPROM layout (README "EEPROM layout") ---------------------------------------------------
 * Two counter slots at 0 and 16: 'P' '2', incarnation (4, little-endian), last press (4), CRC-16.
 * Press n is written to slot n & 1, so a write torn by a power loss leaves the other slot with
 * n - 1, whose successor n was never sent: a press number is never reused.
 * Queue entry i at 32 + 16 i: identity (press 4, button 1, CRC-16 2) and, separately checked,
 * its state (state 1, held ms 4, CRC-16 2 over these and the press). Erased by writing button 0.
 */
enum {
    SLOT_BYTES = 12,
    SLOT_STRIDE = 16,
    QUEUE_BASE = 2 * SLOT_STRIDE,
    ENTRY_STRIDE = 16,
    ENTRY_ID_BYTES = 7,      /* press, button, CRC */
    ENTRY_STATE_OFFSET = 7,
    ENTRY_STATE_BYTES = 7,   /* state, held ms, CRC */
    STORED_HELD = 1,
    STORED_RELEASED = 2
};

/* The held time is persisted as a lower bound each second for the first 10 s (minimum hold and
 * long press live there), then each minute up to an hour; a contact held longer is stuck and an
 * hour is bound enough. This caps the hold-time writes of one press at 70 (README: wear). */
#define PERSIST_FINE_UNTIL_MS 10000u
#define PERSIST_COARSE_MS 60000u
#define PERSIST_UNTIL_MS 3600000u
#define PERSIST_NEVER 0xFFFFFFFFu
/* Resumed presses wait this long after boot for the contacts to be read. */
#define SETTLE_MS (2u * PLBX_DEBOUNCE_MS)
/* A hold longer than this is folded into held_base_ms so that now - since never wraps. */
#define FOLD_MS 0x40000000u

static bool due(uint32_t now, uint32_t at) { return (int32_t)(now - at) >= 0; }

static uint32_t saturating_add(uint32_t a, uint32_t b) { return a > 0xFFFFFFFFu - b ? 0xFFFFFFFFu : a + b; }

static uint16_t crc16(uint16_t crc, const uint8_t *bytes, uint8_t length) {
    /* CRC-16/CCITT (poly 0x1021), bitwise: 2 bytes of code per byte of table saved on the part. */
    while (length--) {
        crc = (uint16_t)(crc ^ (uint16_t)*bytes++ << 8); /* unsigned: int is 16 bits on the part */
        for (uint8_t bit = 0; bit < 8; bit++)
            crc = (uint16_t)((crc & 0x8000u) ? (crc << 1) ^ 0x1021u : (unsigned)crc << 1);
    }
    return crc;
}

static void put32(uint8_t *p, uint32_t v) {
    for (uint8_t i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | (uint16_t)p[1] << 8); }

static void storage_write(plbx_box *box, uint16_t address, const uint8_t *bytes, uint8_t length) {
    box->platform.storage_write(box->platform.ctx, address, bytes, length);
}

static void write_counter_slot(plbx_box *box, uint8_t index, uint32_t press) {
    uint8_t slot[SLOT_BYTES] = {'P', '2'};
    put32(slot + 2, box->incarnation);
    put32(slot + 6, press);
    put16(slot + 10, crc16(0xFFFF, slot, 10));
    storage_write(box, (uint16_t)(index * SLOT_STRIDE), slot, SLOT_BYTES);
}

static void write_counter(plbx_box *box, uint32_t press) { write_counter_slot(box, (uint8_t)(press & 1u), press); }

static bool read_counter(plbx_box *box, uint8_t index, uint32_t *incarnation, uint32_t *press) {
    uint8_t slot[SLOT_BYTES];
    box->platform.storage_read(box->platform.ctx, (uint16_t)(index * SLOT_STRIDE), slot, SLOT_BYTES);
    if (slot[0] != 'P' || slot[1] != '2' || get16(slot + 10) != crc16(0xFFFF, slot, 10)) return false;
    *incarnation = get32(slot + 2);
    *press = get32(slot + 6);
    return *incarnation != 0;
}

static uint16_t entry_address(uint8_t index) { return (uint16_t)(QUEUE_BASE + index * ENTRY_STRIDE); }

static void write_entry_state(plbx_box *box, uint8_t index, uint8_t state, uint32_t held_ms) {
    uint8_t bytes[ENTRY_STATE_BYTES + 4];
    bytes[0] = state;
    put32(bytes + 1, held_ms);
    put32(bytes + ENTRY_STATE_BYTES, box->queue[index].press); /* checked, not stored: ties it to its press */
    uint8_t checked[9];
    memcpy(checked, bytes, 5);
    memcpy(checked + 5, bytes + ENTRY_STATE_BYTES, 4);
    put16(bytes + 5, crc16(0xFFFF, checked, 9));
    storage_write(box, (uint16_t)(entry_address(index) + ENTRY_STATE_OFFSET), bytes, ENTRY_STATE_BYTES);
}

/* The state first, then the identity whose CRC is written last: a torn write leaves no entry, and
 * the press it would have held was not sent yet. */
static void write_entry(plbx_box *box, uint8_t index) {
    plbx_press *p = &box->queue[index];
    write_entry_state(box, index, STORED_HELD, 0);
    uint8_t id[ENTRY_ID_BYTES];
    put32(id, p->press);
    id[4] = p->button;
    put16(id + 5, crc16(0xFFFF, id, 5));
    storage_write(box, entry_address(index), id, ENTRY_ID_BYTES);
}

static void erase_entry(plbx_box *box, uint8_t index) {
    const uint8_t none = 0;
    storage_write(box, (uint16_t)(entry_address(index) + 4), &none, 1);
}

/* ---- frames out ------------------------------------------------------------------------------ */

typedef struct frame {
    char bytes[PLBX_FRAME_MAX + 1];
    uint8_t length;
} frame;

static void put_char(frame *f, char c) {
    if (f->length < sizeof f->bytes) f->bytes[f->length] = c;
    if (f->length < 0xFF) f->length++;
}

static void put_text(frame *f, const char *text) {
    while (*text) put_char(f, *text++);
}

static void put_decimal(frame *f, uint32_t v) {
    char digits[10];
    uint8_t n = 0;
    do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) put_char(f, digits[--n]);
}

static void put_hex(frame *f, uint32_t v, uint8_t min_digits) {
    static const char hex[] = "0123456789ABCDEF";
    char digits[8];
    uint8_t n = 0;
    do { digits[n++] = hex[v & 0xF]; v >>= 4; } while (v || n < min_digits);
    while (n) put_char(f, digits[--n]);
}

static void field_decimal(frame *f, uint32_t v) { put_char(f, ','); put_decimal(f, v); }

static void begin(frame *f, uint16_t seq, const char *type) {
    f->length = 0;
    put_text(f, "$PLBX,");
    put_decimal(f, seq);
    put_char(f, ',');
    put_text(f, type);
}

/* Checksums, terminates and sends; a frame over 82 bytes (a too long box id) is not sent. */
static void send(plbx_box *box, frame *f) {
    uint8_t checksum = 0;
    for (uint8_t i = 1; i < f->length && i < sizeof f->bytes; i++) checksum ^= (uint8_t)f->bytes[i];
    put_char(f, '*');
    put_hex(f, checksum, 2);
    put_text(f, "\r\n");
    if (f->length <= PLBX_FRAME_MAX) box->platform.tx(box->platform.ctx, f->bytes, f->length);
}

static uint16_t next_seq(plbx_box *box) { return box->seq++; }

static void send_hello(plbx_box *box) {
    frame f;
    begin(&f, box->hello.seq, "HELLO");
    put_char(&f, ',');
    put_text(&f, box->box_id);
    put_char(&f, ',');
    put_text(&f, box->firmware);
    field_decimal(&f, box->hello_uptime_s);
    if (box->hello_offers_2) {
        put_text(&f, ",2,");
        put_hex(&f, box->incarnation, 8);
    }
    send(box, &f);
    box->hello.sent_ms = box->now_ms;
}

static void start_hello(plbx_box *box, bool offer_2) {
    box->hello.pending = true;
    box->hello.seq = next_seq(box);
    box->hello.repeats = 0;
    box->hello_offers_2 = offer_2;
    box->hello_uptime_s = box->uptime_s;
    send_hello(box);
}

static void send_heartbeat(plbx_box *box) {
    frame f;
    begin(&f, next_seq(box), "HB");
    field_decimal(&f, box->uptime_s);
    put_char(&f, ',');
    put_hex(&f, box->stable, 1);
    if (box->mode != PLBX_PROTOCOL1) field_decimal(&f, box->last_press);
    send(box, &f);
}

static uint32_t hold_ms(const plbx_box *box, const plbx_press *p) {
    return p->state == PLBX_HELD ? saturating_add(p->held_base_ms, box->now_ms - p->since_ms) : p->held_base_ms;
}

static void send_press(plbx_box *box, plbx_press *p) {
    frame f;
    bool held = p->state == PLBX_HELD;
    begin(&f, next_seq(box), held ? "DOWN" : "UP");
    field_decimal(&f, p->button);
    field_decimal(&f, p->press);
    field_decimal(&f, hold_ms(box, p));
    if (!held && p->after_reset) put_text(&f, ",R");
    send(box, &f);
    if (held) {
        p->next_send_ms = box->now_ms + PLBX_HB_MS;
    } else {
        if (p->sends < 0xFF) p->sends++;
        p->next_send_ms = box->now_ms + (p->sends <= 4 ? PLBX_REPEAT_MS : PLBX_HB_MS);
    }
    box->last_press_frame_ms = box->now_ms;
    box->press_frame_sent = true;
}

static void send_p1_head(plbx_box *box) {
    frame f;
    begin(&f, box->p1_head.seq, box->p1_queue[0].down ? "DOWN" : "UP");
    field_decimal(&f, box->p1_queue[0].button);
    send(box, &f);
    box->p1_head.sent_ms = box->now_ms;
}

static void pop_p1_head(plbx_box *box) {
    box->p1_head.pending = false;
    if (box->p1_count == 0) return;
    box->p1_count--;
    memmove(box->p1_queue, box->p1_queue + 1, box->p1_count * sizeof box->p1_queue[0]);
}

/* ---- presses ----------------------------------------------------------------------------------- */

static uint32_t next_persist_after(uint32_t held_ms) {
    if (held_ms < PERSIST_FINE_UNTIL_MS) return (held_ms / 1000u + 1u) * 1000u;
    if (held_ms < PERSIST_UNTIL_MS) return (held_ms / PERSIST_COARSE_MS + 1u) * PERSIST_COARSE_MS;
    return PERSIST_NEVER;
}

static void new_incarnation(plbx_box *box) {
    uint32_t incarnation = box->platform.random32(box->platform.ctx);
    box->incarnation = incarnation ? incarnation : 0x5EED0001u;
    box->last_press = 0;
    write_counter_slot(box, 0, 0);
    write_counter_slot(box, 1, 0);
    for (uint8_t i = 0; i < PLBX_QUEUE; i++) erase_entry(box, i);
}

static int8_t newest_released_of(const plbx_box *box, uint8_t button) {
    int8_t found = -1;
    for (uint8_t i = 0; i < PLBX_QUEUE; i++) {
        const plbx_press *p = &box->queue[i];
        if (p->state == PLBX_RELEASED && p->button == button && (found < 0 || p->press > box->queue[found].press))
            found = (int8_t)i;
    }
    return found;
}

static int8_t entry_of(const plbx_box *box, uint8_t button, uint8_t state) {
    for (uint8_t i = 0; i < PLBX_QUEUE; i++)
        if (box->queue[i].state == state && box->queue[i].button == button) return (int8_t)i;
    return -1;
}

/* Press n goes to slot n % 8 or the next free one after it: the presses take turns over the
 * slots, so the EEPROM wear is shared by all eight (README: wear), with nothing more to persist. */
static int8_t free_slot_for(const plbx_box *box, uint32_t press) {
    for (uint8_t i = 0; i < PLBX_QUEUE; i++) {
        uint8_t slot = (uint8_t)((press + i) % PLBX_QUEUE);
        if (box->queue[slot].state == PLBX_FREE) return (int8_t)slot;
    }
    return -1;
}

static void start_hold(plbx_box *box, plbx_press *p, uint32_t held_base_ms, uint32_t since_ms) {
    p->state = PLBX_HELD;
    p->held_base_ms = held_base_ms;
    p->since_ms = since_ms;
    p->next_send_ms = box->now_ms;
    p->next_persist_ms = next_persist_after(held_base_ms);
}

/* A debounced close: the press gets its number, which is in EEPROM before anything is sent. */
static void press_closed(plbx_box *box, uint8_t button) {
    int8_t resumed = entry_of(box, button, PLBX_RESUMED);
    if (resumed >= 0) { /* held through a reset and still held: the same press goes on */
        start_hold(box, &box->queue[resumed], box->queue[resumed].held_base_ms, box->boot_ms);
        return;
    }
    if (box->last_press == 0xFFFFFFFFu) { /* numbers exhausted: a new incarnation at the next boot */
        box->counters.presses_dropped++;
        return;
    }
    int8_t slot = free_slot_for(box, box->last_press + 1u);
    if (slot < 0) {
        slot = newest_released_of(box, button);
        if (slot >= 0) box->counters.presses_replaced++;
    }
    uint32_t press = box->last_press + 1u;
    write_counter(box, press);
    box->last_press = press;
    if (slot < 0) { /* full with other buttons' presses: the 8 oldest are kept; HB shows the gap */
        box->counters.presses_dropped++;
        return;
    }
    plbx_press *p = &box->queue[slot];
    memset(p, 0, sizeof *p);
    p->press = press;
    p->button = button;
    write_entry(box, (uint8_t)slot);
    start_hold(box, p, 0, box->now_ms);
}

static void release(plbx_box *box, uint8_t index, uint32_t held_ms) {
    plbx_press *p = &box->queue[index];
    p->state = PLBX_RELEASED;
    p->held_base_ms = held_ms;
    p->sends = 0;
    p->next_send_ms = box->now_ms;
    write_entry_state(box, index, STORED_RELEASED, held_ms);
}

static void press_opened(plbx_box *box, uint8_t button) {
    int8_t held = entry_of(box, button, PLBX_HELD);
    if (held >= 0) release(box, (uint8_t)held, hold_ms(box, &box->queue[held]));
}

static void enqueue_p1(plbx_box *box, uint8_t button, bool down) {
    if (box->p1_count == PLBX_P1_QUEUE) { box->counters.presses_dropped++; return; }
    box->p1_queue[box->p1_count].button = button;
    box->p1_queue[box->p1_count].down = down;
    box->p1_count++;
}

static void contact_changed(plbx_box *box, uint8_t button, bool closed) {
    if (closed) {
        if (box->mode != PLBX_PROTOCOL1 || entry_of(box, button, PLBX_RESUMED) >= 0) press_closed(box, button);
    } else {
        press_opened(box, button);
    }
    if (box->mode == PLBX_PROTOCOL1) enqueue_p1(box, button, closed);
}

/* ---- start --------------------------------------------------------------------------------- */

static void load(plbx_box *box) {
    uint32_t incarnation[2], press[2];
    bool valid[2];
    for (uint8_t i = 0; i < 2; i++) valid[i] = read_counter(box, i, &incarnation[i], &press[i]);
    if (!valid[0] && !valid[1]) {
        new_incarnation(box);
        return;
    }
    uint8_t use = (!valid[0] || (valid[1] && press[1] > press[0])) ? 1 : 0;
    box->incarnation = incarnation[use];
    box->last_press = press[use];
    uint8_t queued = 0;
    for (uint8_t i = 0; i < PLBX_QUEUE; i++) {
        uint8_t bytes[ENTRY_STRIDE];
        box->platform.storage_read(box->platform.ctx, entry_address(i), bytes, ENTRY_ID_BYTES + ENTRY_STATE_BYTES);
        uint32_t number = get32(bytes);
        uint8_t button = bytes[4];
        if (button < 1 || button > PLBX_CONTACTS || number == 0 || get16(bytes + 5) != crc16(0xFFFF, bytes, 5))
            continue;
        uint8_t checked[9];
        memcpy(checked, bytes + ENTRY_STATE_OFFSET, 5);
        put32(checked + 5, number);
        bool state_valid = get16(bytes + ENTRY_STATE_OFFSET + 5) == crc16(0xFFFF, checked, 9);
        uint8_t state = state_valid ? bytes[ENTRY_STATE_OFFSET] : STORED_HELD;
        plbx_press *p = &box->queue[i];
        p->press = number;
        p->button = button;
        /* A torn state write leaves a press of unknown hold: held at reset, lower bound 0. */
        p->held_base_ms = state_valid ? get32(bytes + ENTRY_STATE_OFFSET + 1) : 0;
        p->after_reset = state != STORED_RELEASED;
        p->state = state == STORED_RELEASED ? PLBX_RELEASED : PLBX_RESUMED;
        p->next_send_ms = box->now_ms;
        if (number > box->last_press) box->last_press = number;
        queued++;
    }
    if (box->last_press == 0xFFFFFFFFu && queued == 0) new_incarnation(box);
}

void plbx_init(plbx_box *box, const plbx_platform *platform, const char *box_id,
               const char *firmware, bool protocol1_only, uint32_t now_ms) {
    memset(box, 0, sizeof *box);
    box->platform = *platform;
    box->box_id = box_id;
    box->firmware = firmware;
    box->protocol1_only = protocol1_only;
    box->now_ms = box->boot_ms = box->second_mark_ms = now_ms;
    for (uint8_t i = 0; i < PLBX_CONTACTS; i++) box->raw_changed_ms[i] = now_ms;
    load(box);
    box->mode = protocol1_only ? PLBX_PROTOCOL1 : PLBX_OFFERING;
    start_hello(box, !protocol1_only);
}

void plbx_contacts(plbx_box *box, uint16_t closed) {
    uint16_t changed = closed ^ box->raw;
    for (uint8_t i = 0; i < PLBX_CONTACTS; i++)
        if (changed & (1u << i)) box->raw_changed_ms[i] = box->now_ms;
    box->raw = closed;
}

/* ---- frames in --------------------------------------------------------------------------------- */

typedef struct field {
    const char *text;
    uint8_t length;
} field;

static bool field_is(field f, const char *text) {
    uint8_t n = (uint8_t)strlen(text);
    return f.length == n && memcmp(f.text, text, n) == 0;
}

/* Decimal digits only, no sign, at most 4294967295. */
static bool parse_decimal(field f, uint32_t max, uint32_t *value) {
    if (f.length == 0 || f.length > 10) return false;
    uint32_t v = 0;
    for (uint8_t i = 0; i < f.length; i++) {
        char c = f.text[i];
        if (c < '0' || c > '9') return false;
        uint32_t digit = (uint32_t)(c - '0');
        if (v > (max - digit) / 10u) return false;
        v = v * 10u + digit;
    }
    *value = v;
    return true;
}

static int8_t hex_digit(char c) {
    if (c >= '0' && c <= '9') return (int8_t)(c - '0');
    c = (char)(c | 0x20);
    if (c >= 'a' && c <= 'f') return (int8_t)(c - 'a' + 10);
    return -1;
}

static const char *const pattern_names[] = {"OFF", "ON", "SLOW", "FAST", "P1", "P2", "LONG"};
enum { PATTERN_OFF, PATTERN_ON, PATTERN_SLOW, PATTERN_FAST, PATTERN_P1, PATTERN_P2, PATTERN_LONG, PATTERN_COUNT };

static int8_t parse_pattern(field f) {
    for (uint8_t i = 0; i < PATTERN_COUNT; i++)
        if (field_is(f, pattern_names[i])) return (int8_t)i;
    return -1;
}

static void set_pattern(plbx_box *box, uint8_t output, uint8_t pattern) {
    box->pattern[output] = pattern;
    box->pattern_start_ms[output] = box->now_ms;
}

static void stored(plbx_box *box, uint32_t press) {
    for (uint8_t i = 0; i < PLBX_QUEUE; i++) {
        if (box->queue[i].state != PLBX_FREE && box->queue[i].press == press) {
            erase_entry(box, i);
            box->queue[i].state = PLBX_FREE;
            box->queue[i].press = 0;
        }
    }
}

/* Acts on one frame; false when it is not a valid agent frame. */
static bool act(plbx_box *box, const field *fields, uint8_t count) {
    uint32_t seq, value;
    if (count < 3 || !field_is(fields[0], "PLBX") || !parse_decimal(fields[1], 0xFFFF, &seq)) return false;
    field type = fields[2];
    uint8_t n = (uint8_t)(count - 3);
    const field *f = fields + 3;
    if (field_is(type, "ACK") && n == 1) {
        if (!parse_decimal(f[0], 0xFFFF, &value)) return false;
        if (box->hello.pending && value == box->hello.seq) {
            box->hello.pending = false;
            /* A protocol 1 agent drops a 6-field HELLO unanswered: its ack means a PLBX 2 agent,
             * so a lost PROTO,2 does not leave the box offering forever. */
            if (box->hello_offers_2) box->mode = PLBX_PROTOCOL2;
        }
        if (box->p1_head.pending && value == box->p1_head.seq) pop_p1_head(box);
    } else if (field_is(type, "PROTO") && n == 1) {
        if (!parse_decimal(f[0], 99, &value) || value < 1) return false;
        if (value == 2 && !box->protocol1_only) {
            box->mode = PLBX_PROTOCOL2;
            if (box->hello_offers_2) box->hello.pending = false;
        }
    } else if (field_is(type, "STORED") && n == 1) {
        if (!parse_decimal(f[0], 0xFFFFFFFFu, &value) || value == 0) return false;
        stored(box, value);
    } else if (field_is(type, "LED") && n == 2) {
        int8_t pattern = parse_pattern(f[1]);
        if (!parse_decimal(f[0], 0xFFFF, &value) || value < 1 || pattern < 0) return false;
        if (value <= PLBX_LEDS) set_pattern(box, (uint8_t)(value - 1), (uint8_t)pattern);
    } else if (field_is(type, "BUZ") && n == 1) {
        int8_t pattern = parse_pattern(f[0]);
        if (pattern < 0) return false;
        set_pattern(box, PLBX_LEDS, (uint8_t)pattern);
    } else if (field_is(type, "QUERY") && n == 0) {
        if (box->mode == PLBX_PROTOCOL1 && !box->protocol1_only) box->mode = PLBX_OFFERING;
        start_hello(box, !box->protocol1_only);
    } else {
        return false;
    }
    return true;
}

/* body: the bytes after '$', without the line end. */
static bool parse(plbx_box *box, const char *body, uint8_t length) {
    if (length < 3 || body[length - 3] != '*') return false;
    int8_t high = hex_digit(body[length - 2]), low = hex_digit(body[length - 1]);
    if (high < 0 || low < 0) return false;
    uint8_t checksum = 0;
    for (uint8_t i = 0; i < length - 3; i++) {
        if (body[i] == '*') return false;
        checksum ^= (uint8_t)body[i];
    }
    if (checksum != (uint8_t)(high << 4 | low)) return false;
    field fields[8];
    uint8_t count = 0, start = 0;
    for (uint8_t i = 0; i <= length - 3; i++) {
        if (i == length - 3 || body[i] == ',') {
            if (count == 8) return false;
            fields[count].text = body + start;
            fields[count].length = (uint8_t)(i - start);
            count++;
            start = (uint8_t)(i + 1);
        }
    }
    return act(box, fields, count);
}

void plbx_rx_byte(plbx_box *box, uint8_t byte) {
    if (byte == '$') { /* bytes before the last '$' of a line are noise */
        box->rx_in_frame = true;
        box->rx_length = 0;
        return;
    }
    if (!box->rx_in_frame) return;
    if (byte == '\n') {
        box->rx_in_frame = false;
        uint8_t length = box->rx_length;
        if (length && box->rx[length - 1] == '\r') length--;
        if (parse(box, box->rx, length)) box->counters.rx_frames++;
        else box->counters.rx_rejected++;
        return;
    }
    /* '$' and LF are the 2 bytes of the 82 not kept. The rest of an overlong line is dropped, and
     * what was kept cannot parse: it does not end in "*<CS>" (every agent frame is under 40 bytes). */
    if (box->rx_length < PLBX_FRAME_MAX - 2) box->rx[box->rx_length++] = (char)byte;
}

/* ---- time -------------------------------------------------------------------------------------- */

static bool level(uint8_t pattern, uint32_t t) {
    switch (pattern) {
    case PATTERN_ON: return true;
    case PATTERN_SLOW: return t % 1000u < 500u;
    case PATTERN_FAST: return t % 250u < 125u;
    case PATTERN_P1: return t < 200u;
    case PATTERN_P2: return t < 150u || (t >= 300u && t < 450u);
    case PATTERN_LONG: return t < 1000u;
    default: return false;
    }
}

static void update_outputs(plbx_box *box) {
    uint8_t outputs = 0;
    for (uint8_t i = 0; i <= PLBX_LEDS; i++) {
        uint32_t t = box->now_ms - box->pattern_start_ms[i];
        uint8_t pattern = box->pattern[i];
        /* Pulses end in off for good, before the clock could wrap them round. */
        if (pattern >= PATTERN_P1 && t >= 1000u) box->pattern[i] = pattern = PATTERN_OFF;
        if (level(pattern, t)) outputs |= (uint8_t)(1u << (i == PLBX_LEDS ? PLBX_BUZZER_BIT : i));
    }
    box->outputs = outputs;
}

static void debounce(plbx_box *box) {
    for (uint8_t i = 0; i < PLBX_CONTACTS; i++) {
        uint16_t bit = (uint16_t)(1u << i);
        if (((box->raw ^ box->stable) & bit) && box->now_ms - box->raw_changed_ms[i] >= PLBX_DEBOUNCE_MS) {
            box->stable ^= bit;
            contact_changed(box, (uint8_t)(i + 1), (box->stable & bit) != 0);
        }
    }
    if (!box->settled && box->now_ms - box->boot_ms >= SETTLE_MS) {
        box->settled = true;
        /* Held at reset and not closed now: released while the box was down. */
        for (uint8_t i = 0; i < PLBX_QUEUE; i++)
            if (box->queue[i].state == PLBX_RESUMED) release(box, i, box->queue[i].held_base_ms);
    }
}

static void keep_holds(plbx_box *box) {
    for (uint8_t i = 0; i < PLBX_QUEUE; i++) {
        plbx_press *p = &box->queue[i];
        if (p->state != PLBX_HELD) continue;
        if (box->now_ms - p->since_ms >= FOLD_MS) {
            p->held_base_ms = hold_ms(box, p);
            p->since_ms = box->now_ms;
        }
        uint32_t held = hold_ms(box, p);
        if (p->next_persist_ms != PERSIST_NEVER && held >= p->next_persist_ms) {
            write_entry_state(box, i, STORED_HELD, held);
            p->next_persist_ms = next_persist_after(held);
        }
    }
}

static void repeat_hello(plbx_box *box) {
    if (!box->hello.pending || !due(box->now_ms, box->hello.sent_ms + PLBX_REPEAT_MS)) return;
    if (box->hello.repeats < PLBX_REPEATS) {
        box->hello.repeats++;
        send_hello(box);
    } else if (box->hello_offers_2) { /* nobody speaks 2 here: answer as protocol 1 */
        box->mode = PLBX_PROTOCOL1;
        start_hello(box, false);
    } else {
        box->hello.pending = false;
    }
}

static void send_p1(plbx_box *box) {
    if (box->p1_head.pending) {
        if (!due(box->now_ms, box->p1_head.sent_ms + PLBX_REPEAT_MS)) return;
        if (box->p1_head.repeats >= PLBX_REPEATS) {
            pop_p1_head(box); /* given up: the heartbeat's down mask carries the state */
        } else {
            box->p1_head.repeats++;
            send_p1_head(box);
            return;
        }
    }
    if (box->p1_count == 0 || box->mode != PLBX_PROTOCOL1) return;
    box->p1_head.pending = true;
    box->p1_head.seq = next_seq(box);
    box->p1_head.repeats = 0;
    send_p1_head(box);
}

/* The oldest press that is due, at most one frame per PLBX_PRESS_GAP_MS. */
static void send_presses(plbx_box *box) {
    if (box->mode != PLBX_PROTOCOL2) return;
    if (box->press_frame_sent && !due(box->now_ms, box->last_press_frame_ms + PLBX_PRESS_GAP_MS)) return;
    plbx_press *oldest = 0;
    for (uint8_t i = 0; i < PLBX_QUEUE; i++) {
        plbx_press *p = &box->queue[i];
        if ((p->state == PLBX_HELD || p->state == PLBX_RELEASED) && due(box->now_ms, p->next_send_ms)
            && (!oldest || p->press < oldest->press))
            oldest = p;
    }
    if (oldest) send_press(box, oldest);
}

void plbx_tick(plbx_box *box, uint32_t now_ms) {
    box->now_ms = now_ms;
    debounce(box);
    keep_holds(box);
    repeat_hello(box);
    send_p1(box);
    send_presses(box);
    while (now_ms - box->second_mark_ms >= 1000u) {
        box->second_mark_ms += 1000u;
        box->uptime_s++;
        if (now_ms - box->second_mark_ms < 1000u) send_heartbeat(box);
    }
    update_outputs(box);
}

uint8_t plbx_unconfirmed(const plbx_box *box, uint32_t presses[PLBX_QUEUE]) {
    uint8_t n = 0;
    uint32_t after = 0;
    for (;;) { /* selection by number: 8 entries, no sort code needed */
        uint32_t next = 0;
        for (uint8_t i = 0; i < PLBX_QUEUE; i++) {
            uint32_t press = box->queue[i].state != PLBX_FREE ? box->queue[i].press : 0;
            if (press > after && (next == 0 || press < next)) next = press;
        }
        if (next == 0) return n;
        presses[n++] = after = next;
    }
}
