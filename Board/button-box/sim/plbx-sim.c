/*
 * plbx-sim: runs the unmodified button box firmware image in simavr, paced to real time, with its
 * USART0 on a pseudo-terminal, so that the real patrol-agent talks to it as to a box on a USB
 * serial adapter. Tests press contacts by driving the simulated matrix pins.
 *
 *   plbx-sim --firmware PATH.elf --link PATH [--eeprom FILE] [--protocol1]
 *
 * stdin, one command a line: press N | release N (contact 1…16) | reset | power off | power on | quit
 * stdout, one line an event, flushed: "ready" once the pty is linked at --link, then
 *   <simMicros> boot <power-on|external|brown-out|watchdog|unknown>   (MCUSR as the firmware read it)
 *   <simMicros> led <n> on|off   <simMicros> buzzer on|off   <simMicros> press N   <simMicros> release N
 * All times are one clock (µs since start; it goes on while the box is powered off), so the
 * latency from a contact's edge to an LED can be read off. Exits 0 on stdin EOF, quit or SIGTERM.
 *
 * The pin map is the firmware's (../README.md): rows PD4…PD7 driven low one at a time, columns
 * PC0…PC3 with pull-ups, LEDs PB0…PB3, buzzer PD3, protocol 1 jumper PD2 (low = protocol 1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <avr_eeprom.h>
#include <avr_ioport.h>
#include <avr_adc.h>
#include <avr_extint.h>
#include <sim_avr.h>
#include <sim_elf.h>
#include <sim_io.h>
#include <sim_time.h>
#include <uart_pty.h>

DEFINE_FIFO(uint8_t, uart_pty_fifo); /* the accessors of uart_pty's byte queues */

#define FREQUENCY 16000000u
#define EEPROM_SIZE 1024
#define GPIOR0_ADDRESS 0x3E  /* data address: the firmware reports MCUSR there at boot */
#define MCUSR_ADDRESS 0x54
#define SLICE_US 1000u       /* run this much sim time between looks at stdin and the clock */

static avr_t *avr;
static uart_pty_t pty;
static const char *link_path, *eeprom_path;
static uint8_t eeprom_saved[EEPROM_SIZE];
static bool eeprom_known;
static volatile sig_atomic_t terminate;

static uint16_t pressed;       /* contacts closed by commands, bit n-1 = contact n */
static uint8_t row_port = 0xF0, row_ddr;
static bool protocol1;
static bool powered = true;
static uint8_t outputs;        /* bits 0…3 LEDs, bit 4 buzzer, as last reported */

/* One clock for every line: µs since start; while powered off it runs on the wall clock. */
static uint64_t base_us, cycle_origin, wall_start_us, off_since_us;

static uint64_t wall_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static uint64_t clock_us(void) {
    if (!powered) return base_us + (wall_us() - off_since_us);
    return base_us + avr_cycles_to_usec(avr, avr->cycle - cycle_origin);
}

static void event(const char *format, ...) {
    va_list args;
    va_start(args, format);
    printf("%llu ", (unsigned long long)clock_us());
    vprintf(format, args);
    putchar('\n');
    fflush(stdout);
    va_end(args);
}

static void logger(avr_t *a, const int level, const char *format, va_list args) {
    (void)a;
    if (level <= LOG_ERROR) vfprintf(stderr, format, args); /* stdout is the event stream */
}

static void fail(const char *what) {
    fprintf(stderr, "plbx-sim: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* ---- the contact matrix ---------------------------------------------------------------------- */

/* Sets an input pin's level. simavr drops a raise of the level an irq already has, but a reset
 * clears the PIN register under it: after a reset the opposite level goes first. */
static void drive_input(char port, int pin, uint32_t level, bool after_reset) {
    avr_irq_t *irq = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(port), pin);
    if (after_reset) avr_raise_irq(irq, !level);
    avr_raise_irq(irq, level);
}

/* A column reads low when a closed contact joins it to a row that is driven low. Called on every
 * row change of the scan (8000 times a second): only a changed level goes to simavr. */
static void drive_columns(bool after_reset) {
    static int driven = -1;
    uint8_t columns = 0x0F;
    for (int row = 0; row < 4; row++) {
        bool driven_low = (row_ddr >> (4 + row) & 1) && !(row_port >> (4 + row) & 1);
        if (driven_low) columns &= (uint8_t)~(pressed >> (4 * row) & 0x0F);
    }
    if (columns == driven && !after_reset) return;
    driven = columns;
    avr_ioport_external_t external = {.name = 'C', .mask = 0x0F, .value = columns};
    avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL('C'), &external);
    for (int column = 0; column < 4; column++) drive_input('C', column, columns >> column & 1, after_reset);
}

static void drive_jumper(void) {
    avr_ioport_external_t external = {.name = 'D', .mask = 1 << 2, .value = protocol1 ? 0 : 1 << 2};
    avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL('D'), &external);
    drive_input('D', 2, protocol1 ? 0 : 1, true);
}

static void row_changed(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq;
    int pin = (int)(intptr_t)param;
    row_port = (uint8_t)((row_port & ~(1 << pin)) | ((value & 1) << pin));
    drive_columns(false);
}

static void direction_changed(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq; (void)param;
    row_ddr = (uint8_t)value;
    drive_columns(false);
}

/* ---- outputs --------------------------------------------------------------------------------- */

static void report_output(int bit, bool on) {
    if (!!(outputs >> bit & 1) == on) return;
    outputs ^= (uint8_t)(1 << bit);
    if (bit == 4) event("buzzer %s", on ? "on" : "off");
    else event("led %d %s", bit + 1, on ? "on" : "off");
}

static void led_changed(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq;
    report_output((int)(intptr_t)param, value & 1);
}

static void boot_reported(avr_t *a, avr_io_addr_t addr, uint8_t value, void *param) {
    (void)param;
    a->data[addr] = value;
    const char *cause = value & 8 ? "watchdog" : value & 4 ? "brown-out" : value & 2 ? "external"
                      : value & 1 ? "power-on" : "unknown";
    event("boot %s", cause);
}

/* A floating ADC input for the incarnation's seed: a new random level at every conversion. */
static void adc_triggered(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq; (void)value; (void)param;
    avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC7), (uint32_t)(random() % 5000));
}

/* ---- EEPROM ------------------------------------------------------------------------------------ */

static void eeprom_get(uint8_t *bytes) {
    avr_eeprom_desc_t desc = {.ee = bytes, .offset = 0, .size = EEPROM_SIZE};
    avr_ioctl(avr, AVR_IOCTL_EEPROM_GET, &desc);
}

static void eeprom_set(uint8_t *bytes) {
    avr_eeprom_desc_t desc = {.ee = bytes, .offset = 0, .size = EEPROM_SIZE};
    avr_ioctl(avr, AVR_IOCTL_EEPROM_SET, &desc);
}

/* Written whole to a temporary file and renamed: a harness killed mid-save keeps the old image. */
static void eeprom_save_if_changed(void) {
    if (!eeprom_path) return;
    uint8_t now[EEPROM_SIZE];
    eeprom_get(now);
    if (eeprom_known && memcmp(now, eeprom_saved, EEPROM_SIZE) == 0) return;
    char temporary[4096];
    snprintf(temporary, sizeof temporary, "%s.tmp", eeprom_path);
    FILE *f = fopen(temporary, "wb");
    if (!f || fwrite(now, 1, EEPROM_SIZE, f) != EEPROM_SIZE || fclose(f) != 0) fail(temporary);
    if (rename(temporary, eeprom_path) != 0) fail(eeprom_path);
    memcpy(eeprom_saved, now, EEPROM_SIZE);
    eeprom_known = true;
}

static void eeprom_load(void) {
    memset(eeprom_saved, 0xFF, EEPROM_SIZE); /* an erased part */
    FILE *f = eeprom_path ? fopen(eeprom_path, "rb") : NULL;
    if (f) {
        size_t n = fread(eeprom_saved, 1, EEPROM_SIZE, f);
        fclose(f);
        if (n != EEPROM_SIZE) {
            fprintf(stderr, "plbx-sim: %s: %zu bytes, an EEPROM image is %d; delete it to start erased\n",
                    eeprom_path, n, EEPROM_SIZE);
            exit(2);
        }
        eeprom_known = true;
    }
    eeprom_set(eeprom_saved);
}

/* ---- reset and power --------------------------------------------------------------------------- */

/* A reset keeps EEPROM (simavr's reset does too, restored anyway) and starts the firmware again
 * with MCUSR saying why, as the part's reset logic does. */
static void restart(uint8_t mcusr) {
    uint8_t kept[EEPROM_SIZE];
    eeprom_get(kept);
    base_us = clock_us();
    avr_reset(avr);
    cycle_origin = avr->cycle;
    eeprom_set(kept);
    avr->data[MCUSR_ADDRESS] = mcusr;
    row_port = 0; row_ddr = 0;
    drive_columns(true);
    drive_jumper();
}

static void power_off(void) {
    if (!powered) return;
    eeprom_save_if_changed();
    base_us = clock_us();
    off_since_us = wall_us();
    powered = false;
    for (int bit = 0; bit < 5; bit++) report_output(bit, false);
}

static void power_on(void) {
    if (powered) return;
    base_us = clock_us();
    powered = true;
    uint8_t kept[EEPROM_SIZE];
    eeprom_get(kept);
    avr_reset(avr);
    cycle_origin = avr->cycle;
    memset(avr->data + 0x100, 0, avr->ramend + 1 - 0x100); /* RAM does not survive power loss */
    eeprom_set(kept);
    avr->data[MCUSR_ADDRESS] = 1;
    row_port = 0; row_ddr = 0;
    drive_columns(true);
    drive_jumper();
}

/* ---- commands -------------------------------------------------------------------------------- */

static bool command(char *line) {
    int contact;
    char extra;
    line[strcspn(line, "\r\n")] = 0;
    if (sscanf(line, "press %d %c", &contact, &extra) == 1 && contact >= 1 && contact <= 16) {
        pressed |= (uint16_t)(1u << (contact - 1));
        if (powered) drive_columns(false);
        event("press %d", contact);
    } else if (sscanf(line, "release %d %c", &contact, &extra) == 1 && contact >= 1 && contact <= 16) {
        pressed &= (uint16_t)~(1u << (contact - 1));
        if (powered) drive_columns(false);
        event("release %d", contact);
    } else if (strcmp(line, "reset") == 0) {
        if (powered) restart(2);
    } else if (strcmp(line, "power off") == 0) {
        power_off();
    } else if (strcmp(line, "power on") == 0) {
        power_on();
    } else if (strcmp(line, "quit") == 0) {
        return false;
    } else if (line[0]) {
        fprintf(stderr, "plbx-sim: unknown command \"%s\" (press N, release N with N 1…16, reset, "
                        "power off, power on, quit)\n", line);
    }
    return true;
}

/* One read of stdin, so that a flood of input cannot stall the simulation; false at EOF or quit. */
static bool read_commands(void) {
    static char buffer[256];
    static size_t length;
    ssize_t n = read(STDIN_FILENO, buffer + length, sizeof buffer - 1 - length);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    length += (size_t)n;
    char *newline;
    while ((newline = memchr(buffer, '\n', length))) {
        *newline = 0;
        if (!command(buffer)) return false;
        length -= (size_t)(newline + 1 - buffer);
        memmove(buffer, newline + 1, length);
    }
    if (length == sizeof buffer - 1) length = 0; /* an endless line is no command */
    return true;
}

static void on_sigterm(int signal) { (void)signal; terminate = 1; }

/* simavr would usleep while the part sleeps; the main loop paces instead, watching stdin. */
static void no_sleep(avr_t *a, avr_cycle_count_t how_long) { (void)a; (void)how_long; }

static void usage(void) {
    fprintf(stderr, "usage: plbx-sim --firmware PATH.elf --link PATH [--eeprom FILE] [--protocol1]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *firmware_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--firmware") == 0 && i + 1 < argc) firmware_path = argv[++i];
        else if (strcmp(argv[i], "--link") == 0 && i + 1 < argc) link_path = argv[++i];
        else if (strcmp(argv[i], "--eeprom") == 0 && i + 1 < argc) eeprom_path = argv[++i];
        else if (strcmp(argv[i], "--protocol1") == 0) protocol1 = true;
        else usage();
    }
    if (!firmware_path || !link_path) usage();
    srandom((unsigned)wall_us() ^ (unsigned)getpid());
    avr_global_logger_set(logger);

    elf_firmware_t firmware;
    memset(&firmware, 0, sizeof firmware);
    if (elf_read_firmware(firmware_path, &firmware) != 0 || firmware.flashsize == 0) {
        fprintf(stderr, "plbx-sim: %s: not a readable AVR ELF image (make firmware builds one)\n", firmware_path);
        return 2;
    }
    strcpy(firmware.mmcu, "atmega328p");
    firmware.frequency = FREQUENCY;
    firmware.vcc = firmware.avcc = 5000; /* mV: the Nano's 5 V */
    avr = avr_make_mcu_by_name(firmware.mmcu);
    if (!avr || avr_init(avr) != 0) { fprintf(stderr, "plbx-sim: simavr has no atmega328p\n"); return 2; }
    avr_load_firmware(avr, &firmware);
    avr->sleep = no_sleep;
    /* The firmware uses no external interrupt, but simavr polls INT0/INT1 every cycle while their
     * pins (the jumper, the buzzer) are low, as if level-triggered: 30 % of a core for nothing. */
    avr_extint_set_strict_lvl_trig(avr, 0, 0);
    avr_extint_set_strict_lvl_trig(avr, 1, 0);
    avr->log = LOG_WARNING;

    for (int pin = 4; pin < 8; pin++)
        avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), pin), row_changed, (void *)(intptr_t)pin);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), IOPORT_IRQ_DIRECTION_ALL),
                            direction_changed, NULL);
    for (int led = 0; led < 4; led++)
        avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('B'), led), led_changed, (void *)(intptr_t)led);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), 3), led_changed, (void *)(intptr_t)4);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_OUT_TRIGGER), adc_triggered, NULL);
    avr_register_io_write(avr, GPIOR0_ADDRESS, boot_reported, NULL);

    eeprom_load();
    row_port = 0; row_ddr = 0;
    drive_columns(true);
    drive_jumper();
    avr->data[MCUSR_ADDRESS] = 1; /* power-on */

    /* uart_pty prints where it linked the pty on stdout: keep the event stream clean. */
    fflush(stdout);
    int saved_stdout = dup(STDOUT_FILENO), devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    uart_pty_init(avr, &pty);
    uart_pty_connect(&pty, '0');
    fflush(stdout);
    dup2(saved_stdout, STDOUT_FILENO);
    close(devnull);
    close(saved_stdout);
    struct stat existing;
    if (lstat(link_path, &existing) == 0) {
        if (!S_ISLNK(existing.st_mode)) {
            fprintf(stderr, "plbx-sim: %s exists and is not a link; --link names the link to create\n", link_path);
            return 2;
        }
        unlink(link_path); /* a link left by an earlier run */
    }
    if (symlink(pty.port[0].slavename, link_path) != 0) fail(link_path);
    /* uart_pty also links /tmp/simavr-uart0 to its pty; that name is shared by every harness
     * running, so ours is removed (if it is still ours). */
    char shared_link[sizeof pty.port[0].slavename] = "";
    if (readlink("/tmp/simavr-uart0", shared_link, sizeof shared_link - 1) > 0
        && strcmp(shared_link, pty.port[0].slavename) == 0)
        unlink("/tmp/simavr-uart0");

    struct sigaction action = {.sa_handler = on_sigterm};
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
    printf("ready\n");
    fflush(stdout);

    wall_start_us = wall_us();
    int status = 0;
    while (!terminate) {
        if (powered) {
            uint64_t slice_end = avr->cycle + avr_usec_to_cycles(avr, SLICE_US);
            while (avr->cycle < slice_end) {
                int state = avr_run(avr);
                if (state == cpu_Done || state == cpu_Crashed) {
                    fprintf(stderr, "plbx-sim: the firmware %s at pc 0x%04x\n",
                            state == cpu_Crashed ? "crashed" : "stopped", avr->pc);
                    status = 1;
                    terminate = 1;
                    break;
                }
            }
            eeprom_save_if_changed();
        }
        /* A box without power hears nothing: what the agent sends meanwhile is lost, as on a
         * real line, instead of waiting in uart_pty's queue for the next boot. */
        if (!powered)
            while (!uart_pty_fifo_isempty(&pty.pty.out)) uart_pty_fifo_read(&pty.pty.out); /* out: to the part */
        /* Ahead of the wall clock: wait, with an ear on stdin. Behind: run on. */
        uint64_t sim = clock_us(), wall = wall_us() - wall_start_us;
        int64_t ahead_us = powered ? (int64_t)(sim - wall) : 1000;
        struct pollfd in = {.fd = STDIN_FILENO, .events = POLLIN};
        struct timespec wait = {.tv_sec = 0, .tv_nsec = ahead_us > 0 ? (long)ahead_us * 1000 : 0};
        if (ppoll(&in, 1, &wait, NULL) > 0 && !read_commands()) break;
    }
    if (powered) eeprom_save_if_changed();
    /* Not uart_pty_stop: it prints on stdout and waits for a thread that does not end; exiting
     * closes the pty, which the reader sees as a line gone dead. */
    unlink(link_path);
    return status;
}
