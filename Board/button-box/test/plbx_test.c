/*
 * Host unit tests of the box's protocol logic (plbx/): the same C that runs on the ATmega328P,
 * driven by a simulated clock, contacts, a byte-array EEPROM that can lose power mid-write, and the
 * frames it sends. Run by `make test`.
 */
#include "../plbx/plbx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
static const char *current_test;

#define CHECK(condition, ...) do { if (!(condition)) { \
    failures++; fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, current_test); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* ---- the simulated board ------------------------------------------------------------------------ */

typedef struct sent_frame { uint32_t at_ms; char text[PLBX_FRAME_MAX + 1]; } sent_frame;

typedef struct board {
    plbx_box box;
    uint8_t eeprom[1024];
    long write_budget;  /* bytes the EEPROM takes before the power fails; < 0: unlimited */
    int powered;
    uint32_t writes;
    uint16_t cell_writes[1024];
    uint32_t now;
    uint16_t contacts;
    sent_frame frames[4096];
    int frame_count;
} board;

static void tx(void *ctx, const char *bytes, uint8_t length) {
    board *b = ctx;
    if (!b->powered || b->frame_count == (int)(sizeof b->frames / sizeof b->frames[0])) return;
    sent_frame *f = &b->frames[b->frame_count++];
    f->at_ms = b->now;
    memcpy(f->text, bytes, length);
    f->text[length] = 0;
}

static void storage_read(void *ctx, uint16_t address, void *bytes, uint8_t length) {
    memcpy(bytes, ((board *)ctx)->eeprom + address, length);
}

static void storage_write(void *ctx, uint16_t address, const void *bytes, uint8_t length) {
    board *b = ctx;
    for (uint8_t i = 0; i < length && b->powered; i++) {
        if (b->write_budget == 0) { b->powered = 0; return; }
        if (b->write_budget > 0) b->write_budget--;
        if (b->eeprom[address + i] != ((const uint8_t *)bytes)[i]) b->cell_writes[address + i]++; /* as eeprom_update_byte */
        b->eeprom[address + i] = ((const uint8_t *)bytes)[i];
        b->writes++;
    }
}

static uint32_t random32(void *ctx) { (void)ctx; return 0x1234ABCDu; }

static const plbx_platform platform_template = {0, tx, storage_read, storage_write, random32};

/* A box powered on at b->now with whatever b->eeprom holds. */
static void power_on(board *b, int protocol1_only) {
    plbx_platform platform = platform_template;
    platform.ctx = b;
    b->powered = 1;
    b->write_budget = -1;
    b->frame_count = 0;
    plbx_init(&b->box, &platform, "BX-0042", "1.3.0", protocol1_only != 0, b->now);
    plbx_contacts(&b->box, b->contacts);
}

static board *new_board(int protocol1_only) {
    board *b = calloc(1, sizeof *b);
    memset(b->eeprom, 0xFF, sizeof b->eeprom);
    b->now = 5000; /* the part's clock does not start at any particular value */
    power_on(b, protocol1_only);
    return b;
}

/* Runs the box millisecond by millisecond, as the firmware's 1 ms tick does. */
static void run(board *b, uint32_t ms) {
    for (uint32_t i = 0; i < ms && b->powered; i++) {
        b->now++;
        plbx_tick(&b->box, b->now);
    }
}

static void set_contact(board *b, int button, int closed) {
    if (closed) b->contacts |= (uint16_t)(1u << (button - 1));
    else b->contacts &= (uint16_t)~(1u << (button - 1));
    plbx_contacts(&b->box, b->contacts);
}

static void agent_says(board *b, const char *body) {
    uint8_t checksum = 0;
    for (const char *c = body; *c; c++) checksum ^= (uint8_t)*c;
    char line[200];
    snprintf(line, sizeof line, "$%s*%02X\r\n", body, checksum);
    for (const char *c = line; *c; c++) plbx_rx_byte(&b->box, (uint8_t)*c);
}

static void raw_bytes(board *b, const char *bytes) {
    for (const char *c = bytes; *c; c++) plbx_rx_byte(&b->box, (uint8_t)*c);
}

/* Negotiates PLBX 2 as the agent does: ACK of the HELLO, then PROTO,2. */
static void speak_2(board *b) {
    agent_says(b, "PLBX,0,ACK,0");
    agent_says(b, "PLBX,1,PROTO,2");
}

/* The frames of a type sent since frame index `from` ("DOWN" matches "$PLBX,<seq>,DOWN,"). */
static int count_type(const board *b, int from, const char *type) {
    int n = 0;
    char needle[16];
    snprintf(needle, sizeof needle, ",%s,", type);
    for (int i = from; i < b->frame_count; i++)
        if (strstr(b->frames[i].text, needle)) n++;
    return n;
}

static const sent_frame *nth_of_type(const board *b, int from, const char *type, int nth) {
    char needle[16];
    snprintf(needle, sizeof needle, ",%s,", type);
    for (int i = from; i < b->frame_count; i++)
        if (strstr(b->frames[i].text, needle) && nth-- == 0) return &b->frames[i];
    return 0;
}

/* The fields after the type of a frame, up to '*' ("1,3,250"). */
static const char *fields_of(const sent_frame *f, char *out) {
    const char *type = strchr(strchr(f->text, ',') + 1, ',') + 1;
    const char *start = strchr(type, ',');
    const char *end = strchr(f->text, '*');
    if (!start || start > end) { out[0] = 0; return out; }
    memcpy(out, start + 1, (size_t)(end - start - 1));
    out[end - start - 1] = 0;
    return out;
}

static int frame_checksum_ok(const char *text) {
    const char *star = strchr(text, '*');
    uint8_t checksum = 0;
    for (const char *c = text + 1; c < star; c++) checksum ^= (uint8_t)*c;
    char expected[3];
    snprintf(expected, sizeof expected, "%02X", checksum);
    return star && strncmp(star + 1, expected, 2) == 0 && strcmp(star + 3, "\r\n") == 0;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_frames_byte_exact(void) {
    current_test = "frames byte-exact against the protocol page";
    board *b = new_board(1);
    CHECK(b->frame_count == 1 && strcmp(b->frames[0].text, "$PLBX,0,HELLO,BX-0042,1.3.0,0*6B\r\n") == 0,
          "protocol 1 HELLO: %s", b->frames[0].text);
    agent_says(b, "PLBX,0,ACK,0");
    b->box.seq = 7;
    set_contact(b, 1, 1);
    run(b, PLBX_DEBOUNCE_MS);
    const sent_frame *down = nth_of_type(b, 0, "DOWN", 0);
    CHECK(down && strcmp(down->text, "$PLBX,7,DOWN,1*3E\r\n") == 0, "DOWN: %s", down ? down->text : "none");
    agent_says(b, "PLBX,1,ACK,7");
    set_contact(b, 3, 1);
    run(b, PLBX_DEBOUNCE_MS);
    agent_says(b, "PLBX,2,ACK,8");
    b->box.uptime_s = 11;
    b->box.seq = 8;
    int before = b->frame_count;
    run(b, 1000);
    const sent_frame *hb = nth_of_type(b, before, "HB", 0);
    CHECK(hb && strcmp(hb->text, "$PLBX,8,HB,12,5*02\r\n") == 0, "HB: %s", hb ? hb->text : "none");
    raw_bytes(b, "$PLBX,0,LED,1,ON*4B\r\n");
    run(b, 1);
    CHECK(plbx_outputs(&b->box) & 1, "LED,1,ON from the page lights LED 1");
    free(b);

    b = new_board(0);
    CHECK(strcmp(b->frames[0].text, "$PLBX,0,HELLO,BX-0042,1.3.0,0,2,1234ABCD*59\r\n") == 0,
          "PLBX 2 HELLO: %s", b->frames[0].text);
    speak_2(b);
    set_contact(b, 2, 1);
    run(b, 1500);
    set_contact(b, 2, 0);
    run(b, 300);
    char f[64];
    CHECK(strcmp(fields_of(nth_of_type(b, 0, "DOWN", 0), f), "2,1,0") == 0, "first DOWN fields: %s", f);
    CHECK(strcmp(fields_of(nth_of_type(b, 0, "DOWN", 1), f), "2,1,1000") == 0, "repeated DOWN fields: %s", f);
    CHECK(strcmp(fields_of(nth_of_type(b, 0, "UP", 0), f), "2,1,1500") == 0, "UP fields: %s", f);
    CHECK(strcmp(fields_of(nth_of_type(b, 0, "HB", 0), f), "1,2,1") == 0, "PLBX 2 HB fields: %s", f);
    for (int i = 0; i < b->frame_count; i++)
        CHECK(frame_checksum_ok(b->frames[i].text), "checksum and CR LF: %s", b->frames[i].text);
    free(b);
}

static void test_debounce(void) {
    current_test = "debounce";
    board *b = new_board(0);
    speak_2(b);
    set_contact(b, 4, 1);
    run(b, PLBX_DEBOUNCE_MS - 1);
    set_contact(b, 4, 0);
    run(b, 200);
    CHECK(count_type(b, 0, "DOWN") == 0, "a %u ms blip is no press", PLBX_DEBOUNCE_MS - 1);
    for (int i = 0; i < 10; i++) { set_contact(b, 5, i % 2 == 0); run(b, 3); } /* contact bounce */
    set_contact(b, 5, 1);
    run(b, PLBX_DEBOUNCE_MS - 1);
    CHECK(count_type(b, 0, "DOWN") == 0, "not closed before %u ms of quiet", PLBX_DEBOUNCE_MS);
    run(b, 1);
    CHECK(count_type(b, 0, "DOWN") == 1, "one DOWN after the bounce settles, got %d", count_type(b, 0, "DOWN"));
    for (int i = 0; i < 10; i++) { set_contact(b, 5, i % 2 == 1); run(b, 3); }
    set_contact(b, 5, 0);
    run(b, 400);
    CHECK(count_type(b, 0, "UP") >= 1 && b->box.last_press == 1, "one press for a bouncy close and open");
    free(b);
}

static uint32_t number_field(const sent_frame *f, int index) {
    char fields[64];
    fields_of(f, fields);
    char *p = fields;
    for (int i = 0; i < index && p; i++) { p = strchr(p, ','); if (p) p++; }
    return p ? (uint32_t)strtoul(p, 0, 10) : 0;
}

static void press(board *b, int button, uint32_t hold_ms) {
    set_contact(b, button, 1);
    run(b, hold_ms);
    set_contact(b, button, 0);
    run(b, PLBX_DEBOUNCE_MS + 1);
}

static void test_numbering_survives_reset(void) {
    current_test = "press numbers survive a reset";
    board *b = new_board(0);
    speak_2(b);
    press(b, 1, 300);
    press(b, 2, 300);
    char hello[PLBX_FRAME_MAX + 1];
    strcpy(hello, b->frames[0].text);
    power_on(b, 0); /* reset: EEPROM kept */
    CHECK(strcmp(strstr(b->frames[0].text, ",2,"), strstr(hello, ",2,")) == 0, "same incarnation after reset: %s",
          b->frames[0].text);
    speak_2(b);
    run(b, 1000);
    const sent_frame *hb = nth_of_type(b, 0, "HB", 0);
    CHECK(hb && number_field(hb, 2) == 2, "HB lastPress 2 after reset: %s", hb ? hb->text : "none");
    int from = b->frame_count;
    press(b, 3, 300);
    const sent_frame *down = nth_of_type(b, from, "DOWN", 0);
    CHECK(down && number_field(down, 1) == 3, "next press is 3: %s", down ? down->text : "none");
    free(b);
}

/* Power fails after every possible number of EEPROM bytes of a press; whatever survives, no press
 * number is ever sent for two presses, and the counter is never lost. */
static void test_torn_writes(void) {
    current_test = "power loss mid-write never reuses a press number";
    for (long budget = 0; budget < 40; budget++) {
        board *b = new_board(0);
        speak_2(b);
        press(b, 1, 200);
        agent_says(b, "PLBX,2,STORED,1");
        uint32_t before = b->writes;
        b->write_budget = budget;
        set_contact(b, 2, 1);
        run(b, 200);
        int lost_power = !b->powered;
        uint32_t sent_before = 0;
        const sent_frame *d = nth_of_type(b, 0, "DOWN", 1);
        if (d) sent_before = number_field(d, 1);
        b->contacts = 0;
        power_on(b, 0);
        speak_2(b);
        press(b, 3, 200);
        run(b, 300);
        uint32_t next = 0;
        for (int i = 0; nth_of_type(b, 0, "DOWN", i); i++) {
            uint32_t n = number_field(nth_of_type(b, 0, "DOWN", i), 1);
            if (n > next) next = n;
        }
        CHECK(next >= 2, "budget %ld: a press after recovery has a number (%u)", budget, next);
        CHECK(sent_before == 0 || next > sent_before, "budget %ld: press %u sent before the loss, reused as %u",
              budget, sent_before, next);
        CHECK(b->box.incarnation == 0x1234ABCDu, "budget %ld: incarnation kept", budget);
        if (!lost_power) { CHECK(b->writes > before, "writes happened"); free(b); break; }
        free(b);
    }
}

/* The EEPROM wear of ordinary presses (each stored before the next) is spread: the README's
 * lifetime estimate rests on at most one write of a cell per two presses. */
static void test_wear_spread(void) {
    current_test = "EEPROM wear is shared";
    board *b = new_board(0);
    speak_2(b);
    memset(b->cell_writes, 0, sizeof b->cell_writes);
    char stored[32];
    for (int n = 1; n <= 160; n++) {
        press(b, 1 + n % 16, 300);
        snprintf(stored, sizeof stored, "PLBX,%d,STORED,%d", n + 2, n);
        agent_says(b, stored);
    }
    int worst = 0, at = 0;
    for (int i = 0; i < PLBX_STORAGE_BYTES; i++)
        if (b->cell_writes[i] > worst) { worst = b->cell_writes[i]; at = i; }
    CHECK(worst <= 80, "160 presses wrote EEPROM cell %d %d times", at, worst);
    printf("wear: 160 presses, busiest cell %d written %d times\n", at, worst);
    free(b);
}

static void test_queue_full(void) {
    current_test = "queue full: 8 oldest kept, same button replaced";
    board *b = new_board(0);
    speak_2(b);
    for (int button = 1; button <= 8; button++) press(b, button, 100);
    press(b, 9, 100);
    uint32_t queued[PLBX_QUEUE];
    CHECK(plbx_unconfirmed(&b->box, queued) == 8 && queued[0] == 1 && queued[7] == 8,
          "presses 1…8 kept, the 9th dropped");
    CHECK(b->box.counters.presses_dropped == 1 && b->box.last_press == 9, "press 9 counted and dropped");
    CHECK(b->box.counters.presses_replaced == 0, "nothing replaced yet");
    press(b, 3, 100);
    plbx_unconfirmed(&b->box, queued);
    CHECK(queued[2] == 4 && queued[7] == 10 && b->box.counters.presses_replaced == 1,
          "press 10 of button 3 replaced press 3 (got %u…%u)", queued[2], queued[7]);
    int from = b->frame_count;
    run(b, 1000);
    const sent_frame *hb = nth_of_type(b, from, "HB", 0);
    CHECK(hb && number_field(hb, 2) == 10, "HB lastPress shows the gap: %s", hb ? hb->text : "none");
    free(b);
}

static void test_resend_timing(void) {
    current_test = "resend timing";
    board *b = new_board(0);
    speak_2(b);
    set_contact(b, 6, 1);
    run(b, PLBX_DEBOUNCE_MS);
    uint32_t closed_at = b->now;
    run(b, 3500 - PLBX_DEBOUNCE_MS);
    for (int i = 0; i < 4; i++) {
        const sent_frame *d = nth_of_type(b, 0, "DOWN", i);
        CHECK(d && d->at_ms == closed_at + 1000u * (uint32_t)i && number_field(d, 2) == 1000u * (uint32_t)i,
              "DOWN %d at +%u ms with age %u", i, d ? d->at_ms - closed_at : 0, d ? number_field(d, 2) : 0);
    }
    set_contact(b, 6, 0);
    run(b, PLBX_DEBOUNCE_MS);
    uint32_t opened_at = b->now;
    run(b, 4000);
    static const uint32_t expected[] = {0, 250, 500, 750, 1000, 2000, 3000, 4000};
    for (int i = 0; i < 8; i++) {
        const sent_frame *u = nth_of_type(b, 0, "UP", i);
        CHECK(u && u->at_ms - opened_at == expected[i], "UP %d at +%u ms, expected +%u", i,
              u ? u->at_ms - opened_at : 0, expected[i]);
    }
    /* Several due presses: oldest first, 100 ms apart at least. */
    for (int button = 1; button <= 4; button++) press(b, button, 50);
    int from = b->frame_count;
    run(b, 5000);
    uint32_t last = 0;
    int ups = 0;
    for (int i = from; i < b->frame_count; i++) {
        if (!strstr(b->frames[i].text, ",UP,")) continue;
        CHECK(ups == 0 || b->frames[i].at_ms - last >= PLBX_PRESS_GAP_MS, "press frames %u ms apart",
              b->frames[i].at_ms - last);
        last = b->frames[i].at_ms;
        ups++;
    }
    CHECK(ups > 8, "the queued presses are repeated (%d UPs)", ups);
    free(b);

    /* Presses made before PLBX 2 is agreed all fall due at once: press order, also where the
     * presses 7, 8, 9 sit in queue slots 7, 0, 1. */
    b = new_board(0);
    char stored[32];
    for (int n = 1; n <= 6; n++) {
        press(b, 1, 50);
        snprintf(stored, sizeof stored, "PLBX,%d,STORED,%d", n, n);
        agent_says(b, stored);
    }
    for (int button = 1; button <= 3; button++) press(b, button, 50);
    from = b->frame_count;
    speak_2(b);
    run(b, 400);
    for (int i = 0; i < 3; i++) {
        const sent_frame *u = nth_of_type(b, from, "UP", i);
        CHECK(u && number_field(u, 1) == 7u + (uint32_t)i, "UP %d is press %u: %s", i, 7 + i, u ? u->text : "none");
    }
    free(b);
}

static void test_negotiation(void) {
    current_test = "negotiation and fallback to protocol 1";
    board *b = new_board(0);
    run(b, 21 * PLBX_REPEAT_MS - 1);
    CHECK(count_type(b, 0, "HELLO") == 21, "HELLO and 20 repeats, got %d", count_type(b, 0, "HELLO"));
    for (int i = 0; i < 21; i++)
        CHECK(strcmp(nth_of_type(b, 0, "HELLO", i)->text, b->frames[0].text) == 0, "repeat %d is the same frame", i);
    run(b, 1);
    const sent_frame *p1 = nth_of_type(b, 0, "HELLO", 21);
    CHECK(p1 && strstr(p1->text, ",HELLO,BX-0042,1.3.0,5*"), "then the protocol 1 HELLO: %s", p1 ? p1->text : "none");
    CHECK(b->box.mode == PLBX_PROTOCOL1, "speaks protocol 1");
    int from = b->frame_count;
    press(b, 1, 300);
    const sent_frame *down = nth_of_type(b, from, "DOWN", 0);
    CHECK(down && strstr(down->text, ",DOWN,1*"), "protocol 1 DOWN: %s", down ? down->text : "none");
    agent_says(b, "PLBX,0,QUERY");
    CHECK(b->box.mode == PLBX_OFFERING && strstr(b->frames[b->frame_count - 1].text, ",2,1234ABCD*"),
          "QUERY offers 2 again");
    free(b);

    b = new_board(0);
    run(b, 600);
    agent_says(b, "PLBX,0,ACK,0");
    agent_says(b, "PLBX,1,PROTO,2");
    int hellos = count_type(b, 0, "HELLO");
    run(b, 6000);
    CHECK(count_type(b, 0, "HELLO") == hellos && b->box.mode == PLBX_PROTOCOL2, "answered: no more HELLOs, PLBX 2");
    agent_says(b, "PLBX,2,QUERY");
    run(b, 6000);
    CHECK(b->box.mode == PLBX_PROTOCOL1, "a QUERY nobody answers (a protocol 1 agent now) falls back again");
    free(b);

    b = new_board(0);
    run(b, 300);
    agent_says(b, "PLBX,1,PROTO,2"); /* the ACK was lost */
    run(b, 6000);
    CHECK(b->box.mode == PLBX_PROTOCOL2 && count_type(b, 0, "HELLO") == 2, "PROTO,2 alone is enough");
    free(b);

    b = new_board(0);
    run(b, 300);
    agent_says(b, "PLBX,0,ACK,0"); /* the PROTO,2 was lost */
    run(b, 6000);
    CHECK(b->box.mode == PLBX_PROTOCOL2, "the ACK of the 6-field HELLO alone is enough");
    free(b);
}

static void test_stored_clears_queue(void) {
    current_test = "STORED clears the press";
    board *b = new_board(0);
    speak_2(b);
    press(b, 2, 300);
    run(b, 100);
    agent_says(b, "PLBX,2,STORED,1");
    int from = b->frame_count;
    run(b, 5000);
    CHECK(count_type(b, from, "UP") == 0, "no UP after STORED, got %d", count_type(b, from, "UP"));
    uint32_t queued[PLBX_QUEUE];
    CHECK(plbx_unconfirmed(&b->box, queued) == 0, "queue empty");
    power_on(b, 0);
    speak_2(b);
    run(b, 3000);
    CHECK(count_type(b, 0, "UP") == 0, "not resent after a reset either");

    press(b, 2, 300);
    agent_says(b, "PLBX,3,STORED,99"); /* some other press: nothing to do */
    power_on(b, 0);
    speak_2(b);
    run(b, 300);
    const sent_frame *up = nth_of_type(b, 0, "UP", 0);
    CHECK(up && number_field(up, 1) == 2 && !strstr(up->text, ",R*"), "unconfirmed press 2 resent as UP after reset: %s",
          up ? up->text : "none");
    free(b);
}

static void test_reset_during_press(void) {
    current_test = "reset while a button is held";
    board *b = new_board(0);
    speak_2(b);
    set_contact(b, 7, 1);
    run(b, 2600); /* lower bound 2000 ms persisted */
    power_on(b, 0); /* watchdog reset; the guard still holds the button */
    speak_2(b);
    run(b, 500);
    const sent_frame *down = nth_of_type(b, 0, "DOWN", 0);
    CHECK(down && number_field(down, 0) == 7 && number_field(down, 1) == 1 && number_field(down, 2) >= 2000,
          "the same press goes on, age from the persisted bound: %s", down ? down->text : "none");
    CHECK(b->box.last_press == 1, "no new press number");
    set_contact(b, 7, 0);
    run(b, 100);
    const sent_frame *up = nth_of_type(b, 0, "UP", 0);
    CHECK(up && number_field(up, 1) == 1 && strstr(up->text, ",R*"), "UP with R: %s", up ? up->text : "none");

    board *c = new_board(0);
    speak_2(c);
    set_contact(c, 8, 1);
    run(c, 1300);
    c->contacts = 0; /* released while the box was down (power loss) */
    power_on(c, 0);
    speak_2(c);
    run(c, 500);
    up = nth_of_type(c, 0, "UP", 0);
    CHECK(up && number_field(up, 1) == 1 && number_field(up, 2) == 1000 && strstr(up->text, ",R*"),
          "released during the reset: UP with the persisted 1000 ms and R: %s", up ? up->text : "none");
    CHECK(count_type(c, 0, "DOWN") == 0, "no DOWN for it");
    free(b);
    free(c);
}

static void test_protocol1_mode(void) {
    current_test = "protocol 1 jumper";
    board *b = new_board(1);
    agent_says(b, "PLBX,0,ACK,0");
    agent_says(b, "PLBX,1,PROTO,2");
    CHECK(b->box.mode == PLBX_PROTOCOL1, "the jumper wins over PROTO,2");
    set_contact(b, 1, 1);
    run(b, 6000);
    CHECK(count_type(b, 0, "DOWN") == 21, "DOWN and 20 repeats unacked, got %d", count_type(b, 0, "DOWN"));
    const sent_frame *first = nth_of_type(b, 0, "DOWN", 0);
    const sent_frame *last = nth_of_type(b, 0, "DOWN", 20);
    CHECK(strcmp(first->text, last->text) == 0 && last->at_ms - first->at_ms == 20 * PLBX_REPEAT_MS,
          "repeats keep the number, 250 ms apart");
    const sent_frame *hb = nth_of_type(b, 0, "HB", 2);
    char f[64];
    CHECK(hb && strcmp(fields_of(hb, f), "3,1") == 0, "HB uptime and down mask only: %s", f);
    set_contact(b, 1, 0);
    run(b, 40);
    const sent_frame *up = nth_of_type(b, 0, "UP", 0);
    CHECK(up && strstr(up->text, ",UP,1*"), "UP: %s", up ? up->text : "none");
    char ack[32];
    snprintf(ack, sizeof ack, "PLBX,2,ACK,%u", (unsigned)strtoul(strchr(up->text, ',') + 1, 0, 10));
    agent_says(b, ack);
    run(b, 2000);
    CHECK(count_type(b, 0, "UP") == 1, "ACK stops the repeats, got %d", count_type(b, 0, "UP"));
    agent_says(b, "PLBX,3,QUERY");
    CHECK(strcmp(strstr(b->frames[b->frame_count - 1].text, ",HELLO,"), ",HELLO,BX-0042,1.3.0,8*") > 0
          && !strstr(b->frames[b->frame_count - 1].text, ",2,"), "QUERY: 3-field HELLO only: %s",
          b->frames[b->frame_count - 1].text);
    CHECK(b->box.last_press == 0, "protocol 1 presses are not numbered");
    free(b);
}

static void test_bad_frames_ignored(void) {
    current_test = "bad and overlong frames are ignored";
    board *b = new_board(0);
    speak_2(b);
    press(b, 1, 100);
    static const char *const bad[] = {
        "$PLBX,2,STORED,1*00\r\n",                 /* bad checksum */
        "$PLBX,2,STORED,1,1*2F\r\n",               /* wrong field count */
        "$PLBX,2,STORED,0*33\r\n",                 /* press 0 */
        "$PLBX,2,STORED,4294967297*0C\r\n",        /* over 32 bits */
        "$PLBX,2,STORED,+1*19\r\n",                /* sign */
        "$PLBX,65536,STORED,1*33\r\n",             /* sequence out of range */
        "$PLBX,2,STORE,1*76\r\n",                  /* unknown type */
        "$PLBX,2,LED,1,BLINK*00\r\n",
        "$PLBX,2,STORED,1*3\r\n",                  /* short checksum */
        "$GPXX,2,STORED,1*23\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) raw_bytes(b, bad[i]);
    char overlong[200] = "$PLBX,2,STORED,1";
    while (strlen(overlong) < 120) strcat(overlong, "0");
    strcat(overlong, "*00\r\n");
    raw_bytes(b, overlong);
    uint32_t queued[PLBX_QUEUE];
    CHECK(plbx_unconfirmed(&b->box, queued) == 1, "press 1 still unconfirmed");
    CHECK(b->box.counters.rx_rejected == 11, "11 rejected, counted %u", b->box.counters.rx_rejected);
    uint16_t accepted = b->box.counters.rx_frames;
    raw_bytes(b, "\xff\x01noise$PL$PLBX,2,STORED,1*32\r\n");
    CHECK(plbx_unconfirmed(&b->box, queued) == 0 && b->box.counters.rx_frames == accepted + 1,
          "noise before the last $ is dropped, the frame acted on");
    free(b);
}

static void test_patterns(void) {
    current_test = "LED and buzzer patterns";
    board *b = new_board(0);
    agent_says(b, "PLBX,0,LED,2,P2");
    agent_says(b, "PLBX,1,BUZ,LONG");
    agent_says(b, "PLBX,2,LED,4,SLOW");
    agent_says(b, "PLBX,3,LED,5,ON"); /* no LED 5 on this box */
    static const struct { uint32_t at; uint8_t outputs; } expected[] = {
        {1, 0x1A}, {149, 0x1A}, {151, 0x18}, {301, 0x1A}, {451, 0x18}, {499, 0x18},
        {501, 0x10}, {999, 0x10}, {1001, 0x08}, {1501, 0x00}, {2001, 0x08},
    };
    uint32_t start = b->now;
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        run(b, expected[i].at - (b->now - start));
        CHECK(plbx_outputs(&b->box) == expected[i].outputs, "at %u ms outputs %02X, expected %02X", expected[i].at,
              plbx_outputs(&b->box), expected[i].outputs);
    }
    free(b);
}

int main(void) {
    test_frames_byte_exact();
    test_debounce();
    test_numbering_survives_reset();
    test_torn_writes();
    test_queue_full();
    test_wear_spread();
    test_resend_timing();
    test_negotiation();
    test_stored_clears_queue();
    test_reset_during_press();
    test_protocol1_mode();
    test_bad_frames_ignored();
    test_patterns();
    if (failures) { fprintf(stderr, "plbx tests: %d failed\n", failures); return 1; }
    printf("plbx tests: all passed\n");
    return 0;
}
