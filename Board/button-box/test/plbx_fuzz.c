/*
 * libFuzzer target for plbx: the box's decoder of bytes from the line, driven together with time,
 * contacts and resets that may tear an EEPROM write. Beyond "no crash, no undefined behaviour"
 * (AddressSanitizer, UBSan) it checks what the box promises:
 *   - every frame it sends is well formed: "$PLBX,", at most 82 bytes, a right checksum, CR LF;
 *   - a press number names one press: within an incarnation no number is ever sent for a second
 *     button, and the counter never goes back below a number sent, across any reset or torn write;
 *   - the queue holds distinct numbers, none above the counter, buttons 1…16.
 * make fuzz SECONDS=60 (clang with libFuzzer: the Swift toolchain's).
 */
#include "../plbx/plbx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TRACKED 4096

static plbx_box box;
static uint8_t eeprom[1024];
static long write_budget;    /* < 0: no power loss pending */
static int powered;
static uint32_t now;
static uint32_t incarnation;
static uint8_t button_of_press[MAX_TRACKED]; /* 0: never sent */
static uint32_t highest_sent;  /* press number, this incarnation */

static void check(int ok) { if (!ok) abort(); }

static uint32_t field_number(const char *text, int index) {
    for (int i = 0; i < index; i++) text = strchr(text, ',') + 1;
    return (uint32_t)strtoul(text, 0, 10);
}

static void tx(void *ctx, const char *bytes, uint8_t length) {
    (void)ctx;
    if (!powered) return;
    check(length <= PLBX_FRAME_MAX && length > 11 && memcmp(bytes, "$PLBX,", 6) == 0);
    check(bytes[length - 2] == '\r' && bytes[length - 1] == '\n' && bytes[length - 5] == '*');
    uint8_t checksum = 0;
    for (int i = 1; i < length - 5; i++) checksum ^= (uint8_t)bytes[i];
    static const char hex[] = "0123456789ABCDEF";
    check(bytes[length - 4] == hex[checksum >> 4] && bytes[length - 3] == hex[checksum & 15]);
    char text[PLBX_FRAME_MAX + 1];
    memcpy(text, bytes, length);
    text[length] = 0;
    const char *type = strchr(text + 6, ',') + 1;
    if ((strncmp(type, "DOWN,", 5) == 0 || strncmp(type, "UP,", 3) == 0) && strchr(type, ',') != strrchr(type, ',')) {
        uint32_t button = field_number(type, 1), press = field_number(type, 2);
        check(button >= 1 && button <= PLBX_CONTACTS && press >= 1 && press <= box.last_press);
        if (press > highest_sent) highest_sent = press;
        if (press < MAX_TRACKED) {
            check(button_of_press[press] == 0 || button_of_press[press] == button);
            button_of_press[press] = (uint8_t)button;
        }
    }
}

static void storage_read(void *ctx, uint16_t address, void *bytes, uint8_t length) {
    (void)ctx;
    check(address + length <= PLBX_STORAGE_BYTES);
    memcpy(bytes, eeprom + address, length);
}

static void storage_write(void *ctx, uint16_t address, const void *bytes, uint8_t length) {
    (void)ctx;
    check(address + length <= PLBX_STORAGE_BYTES);
    for (uint8_t i = 0; i < length && powered; i++) {
        if (write_budget == 0) { powered = 0; return; }
        if (write_budget > 0) write_budget--;
        eeprom[address + i] = ((const uint8_t *)bytes)[i];
    }
}

static uint32_t random32(void *ctx) { (void)ctx; return 0xC0FFEE01u + now; }

static void boot(int protocol1) {
    static const plbx_platform platform = {0, tx, storage_read, storage_write, random32};
    powered = 1;
    write_budget = -1;
    plbx_init(&box, &platform, "BX-FUZZ", "2.0.0", protocol1, now);
    if (box.incarnation != incarnation) { /* a new incarnation starts its own numbering */
        incarnation = box.incarnation;
        memset(button_of_press, 0, sizeof button_of_press);
        highest_sent = 0;
    } else { /* numbers assigned but never sent (power lost first) may come again; sent ones not */
        check(box.last_press >= highest_sent);
    }
}

static void check_queue(void) {
    for (int i = 0; i < PLBX_QUEUE; i++) {
        const plbx_press *p = &box.queue[i];
        if (p->state == PLBX_FREE) continue;
        check(p->press >= 1 && p->press <= box.last_press && p->button >= 1 && p->button <= PLBX_CONTACTS);
        for (int j = i + 1; j < PLBX_QUEUE; j++)
            check(box.queue[j].state == PLBX_FREE || box.queue[j].press != p->press);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    memset(eeprom, 0xFF, sizeof eeprom);
    memset(&box, 0, sizeof box);
    memset(button_of_press, 0, sizeof button_of_press);
    incarnation = 0;
    now = 1000;
    boot(0);
    for (size_t i = 0; i + 1 < size; i += 2) {
        uint8_t op = data[i], arg = data[i + 1];
        switch (op & 7) {
        case 0: case 1: case 2: /* a byte from the line (mostly protocol-ish characters) */
            plbx_rx_byte(&box, op & 8 ? arg : (uint8_t)"$PLBX,0123456789*ACKSTOREDPRLQUYEDBZNFGW\r\n"[arg % 43]);
            break;
        case 3: /* time passes, tick by tick */
            for (uint32_t t = 0; t < (uint32_t)arg * (op & 8 ? 50u : 1u) && powered; t++) plbx_tick(&box, ++now);
            break;
        case 4: /* contacts change */
            plbx_contacts(&box, (uint16_t)(arg * 0x0101u >> (op >> 4)));
            break;
        case 5: /* the power fails after `arg` more EEPROM bytes */
            write_budget = arg;
            break;
        case 6: /* reset or power-on; the contacts stay as they are */
            boot(arg == 0x55);
            break;
        case 7: /* a frame from the agent, well formed */ {
            static const char *const frames[] = {"$PLBX,1,ACK,0*", "$PLBX,2,PROTO,2*", "$PLBX,3,QUERY*",
                                                 "$PLBX,4,STORED,", "$PLBX,5,LED,1,P2*"};
            const char *f = frames[arg % 5];
            char line[40];
            uint8_t checksum = 0;
            if (arg % 5 == 3) { /* STORED of a recent press */
                snprintf(line, sizeof line, "PLBX,4,STORED,%u", box.last_press - arg / 5 % 4);
            } else {
                snprintf(line, sizeof line, "%.*s", (int)(strlen(f) - 2), f + 1);
            }
            for (const char *c = line; *c; c++) checksum ^= (uint8_t)*c;
            char framed[48];
            snprintf(framed, sizeof framed, "$%s*%02X\r\n", line, checksum);
            for (const char *c = framed; *c; c++) plbx_rx_byte(&box, (uint8_t)*c);
            break;
        }
        }
        if (!powered) boot(0); /* the power came back */
        check_queue();
    }
    return 0;
}
