/*
 * PatrolLink button box firmware for the ATmega328P at 16 MHz (Arduino Nano).
 *
 * The board: USART0 at 9600 8N1, 16 contacts in a 4×4 diode matrix, 4 LEDs, a buzzer driver and
 * the protocol 1 jumper; pins and wiring in ../README.md. Everything the box decides is in plbx/;
 * this file only moves bytes, pin levels, EEPROM cells and time between the part and plbx.
 *
 * The main loop sleeps until an interrupt (the 1 ms timer or a received byte), then scans the
 * matrix, feeds plbx and pets the watchdog; a loop that stops coming round is reset by the
 * watchdog after 1 s, and plbx resends what was unconfirmed from EEPROM.
 */
#include <avr/eeprom.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <avr/wdt.h>
#include <util/delay.h>

#include "../plbx/plbx.h"

#ifndef BOX_ID
#define BOX_ID "BX-0001"
#endif
_Static_assert(sizeof BOX_ID - 1 >= 1 && sizeof BOX_ID - 1 <= 16, "BOX_ID: 1 to 16 characters, so HELLO fits in 82 bytes");
#define FIRMWARE_VERSION "2.0.0"
#define BAUD 9600UL

/* Pin map (README "Pins"). Rows are driven low one at a time; columns read low through the
 * closed contact and its diode. Contact n (1…16) is row (n-1)/4, column (n-1)%4. */
#define ROW_PORT PORTD
#define ROW_DDR DDRD
#define ROW_SHIFT 4          /* PD4…PD7 = Nano D4…D7 */
#define ROW_MASK 0xF0
#define COLUMN_PIN PINC
#define COLUMN_PORT PORTC
#define COLUMN_MASK 0x0F     /* PC0…PC3 = Nano A0…A3 */
#define LED_PORT PORTB
#define LED_DDR DDRB
#define LED_MASK 0x0F        /* PB0…PB3 = Nano D8…D11, LED 1…4 */
#define BUZZER_BIT PD3       /* Nano D3, base of the buzzer's NPN driver */
#define JUMPER_BIT PD2       /* Nano D2, to GND = answer as protocol 1 only */
#define NOISE_CHANNEL 7      /* Nano A7, left unconnected: its noise seeds the incarnation */

/* ---- serial: interrupt-driven ring buffers ------------------------------------------------------ */

#define RX_SIZE 128u /* 133 ms of line at 9600 baud: longer than the longest EEPROM write burst */
#define TX_SIZE 128u

static volatile uint8_t rx_ring[RX_SIZE], tx_ring[TX_SIZE];
static volatile uint8_t rx_head, rx_tail, tx_head, tx_tail;
static volatile uint32_t milliseconds;

ISR(USART_RX_vect) {
    uint8_t byte = UDR0;
    uint8_t next = (uint8_t)((rx_head + 1u) % RX_SIZE);
    if (next != rx_tail) { /* full: the byte is lost and its frame fails its checksum */
        rx_ring[rx_head] = byte;
        rx_head = next;
    }
}

ISR(USART_UDRE_vect) {
    if (tx_head == tx_tail) {
        UCSR0B &= (uint8_t)~_BV(UDRIE0);
        return;
    }
    UDR0 = tx_ring[tx_tail];
    tx_tail = (uint8_t)((tx_tail + 1u) % TX_SIZE);
}

ISR(TIMER0_COMPA_vect) { milliseconds++; }

static uint32_t now_ms(void) {
    uint8_t sreg = SREG;
    cli();
    uint32_t now = milliseconds;
    SREG = sreg;
    return now;
}

static void serial_tx(void *ctx, const char *bytes, uint8_t length) {
    (void)ctx;
    for (uint8_t i = 0; i < length; i++) {
        uint8_t next = (uint8_t)((tx_head + 1u) % TX_SIZE);
        while (next == tx_tail) { /* full: the UART empties it within 133 ms; the loop is healthy */
            wdt_reset();
            sleep_mode();
        }
        tx_ring[tx_head] = (uint8_t)bytes[i];
        tx_head = next;
        UCSR0B |= _BV(UDRIE0);
    }
}

/* ---- EEPROM and randomness ------------------------------------------------------------------- */

static void storage_read(void *ctx, uint16_t address, void *bytes, uint8_t length) {
    (void)ctx;
    eeprom_read_block(bytes, (const void *)address, length);
}

/* Byte by byte in address order (plbx's torn-write reasoning), skipping unchanged cells (wear). */
static void storage_write(void *ctx, uint16_t address, const void *bytes, uint8_t length) {
    (void)ctx;
    for (uint8_t i = 0; i < length; i++) {
        eeprom_update_byte((uint8_t *)(address + i), ((const uint8_t *)bytes)[i]);
        wdt_reset(); /* 3.4 ms per cell: a long write is progress, not a hang */
    }
}

/* The low bits of a floating ADC input and the timer phase, mixed: enough for a value that two
 * boxes initialised the same day will not share. Used once, when the EEPROM is initialised. */
static uint32_t noise32(void *ctx) {
    (void)ctx;
    uint32_t x = 0x9E3779B9u;
    ADMUX = _BV(REFS0) | NOISE_CHANNEL; /* AVcc reference */
    ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);
    for (uint8_t i = 0; i < 64; i++) {
        ADCSRA |= _BV(ADSC);
        while (ADCSRA & _BV(ADSC)) {}
        x ^= (uint32_t)ADC + TCNT0;
        x ^= x << 13; x ^= x >> 17; x ^= x << 5; /* xorshift32 */
    }
    ADCSRA = 0;
    return x;
}

/* ---- pins ------------------------------------------------------------------------------------ */

static uint16_t scan_contacts(void) {
    uint16_t closed = 0;
    for (uint8_t row = 0; row < 4; row++) {
        ROW_PORT = (uint8_t)((ROW_PORT | ROW_MASK) & ~_BV(ROW_SHIFT + row));
        _delay_us(5); /* settle through the diode and the cable's capacitance */
        uint8_t columns = (uint8_t)(~COLUMN_PIN & COLUMN_MASK);
        closed |= (uint16_t)columns << (4 * row);
    }
    ROW_PORT |= ROW_MASK;
    return closed;
}

static void show(uint8_t outputs) {
    LED_PORT = (uint8_t)((LED_PORT & ~LED_MASK) | (outputs & LED_MASK));
    if (outputs & _BV(PLBX_BUZZER_BIT)) PORTD |= _BV(BUZZER_BIT);
    else PORTD &= (uint8_t)~_BV(BUZZER_BIT);
}

/* ---- start ------------------------------------------------------------------------------------ */

/* Optiboot (the Nano's bootloader) clears MCUSR and passes it in r2; older bootloaders leave it in
 * MCUSR. Both are caught before the C runtime touches r2. */
uint8_t reset_flags_from_bootloader __attribute__((section(".noinit")));
void capture_r2(void) __attribute__((naked, used, section(".init0")));
void capture_r2(void) { __asm__ __volatile__("sts %0, r2\n" : "=m"(reset_flags_from_bootloader)); }

static uint8_t reset_cause(void) {
    uint8_t flags = MCUSR;
    MCUSR = 0;
    wdt_disable(); /* a watchdog reset leaves it running at its shortest period */
    return flags ? flags : reset_flags_from_bootloader;
}

int main(void) {
    uint8_t cause = reset_cause();
    /* The reset cause (MCUSR bits: 1 power-on, 2 external, 4 brown-out, 8 watchdog) for a
     * debugger or the simulator; the agent sees the reboot in HELLO's uptime. */
    GPIOR0 = cause;

    ROW_DDR |= ROW_MASK;
    ROW_PORT |= ROW_MASK;
    COLUMN_PORT |= COLUMN_MASK;  /* pull-ups */
    PORTD |= _BV(JUMPER_BIT);    /* pull-up */
    DDRD |= _BV(BUZZER_BIT);
    LED_DDR |= LED_MASK;

    UBRR0 = (uint16_t)(F_CPU / 16 / BAUD - 1);
    UCSR0A = 0;
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
    UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);

    TCCR0A = _BV(WGM01);                 /* CTC */
    OCR0A = (uint8_t)(F_CPU / 64 / 1000 - 1);
    TCCR0B = _BV(CS01) | _BV(CS00);      /* /64: 1 ms */
    TIMSK0 = _BV(OCIE0A);

    set_sleep_mode(SLEEP_MODE_IDLE);     /* the timer and UART keep running */
    wdt_enable(WDTO_1S);
    sei();

    _delay_us(50); /* pull-up on the jumper settles */
    bool protocol1 = !(PIND & _BV(JUMPER_BIT));
    static plbx_box box;
    static const plbx_platform platform = {0, serial_tx, storage_read, storage_write, noise32};
    plbx_init(&box, &platform, BOX_ID, FIRMWARE_VERSION, protocol1, now_ms());

    uint32_t last_tick = now_ms();
    for (;;) {
        sleep_mode();
        while (rx_tail != rx_head) {
            plbx_rx_byte(&box, rx_ring[rx_tail]);
            rx_tail = (uint8_t)((rx_tail + 1u) % RX_SIZE);
        }
        uint32_t now = now_ms();
        if (now != last_tick) {
            last_tick = now;
            plbx_contacts(&box, scan_contacts());
            plbx_tick(&box, now);
            show(plbx_outputs(&box));
        }
        wdt_reset(); /* only here: the loop came round */
    }
}
