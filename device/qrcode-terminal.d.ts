declare module 'qrcode-terminal' {
  interface QrcodeTerminal {
    generate(text: string, options?: { small?: boolean }, callback?: (qr: string) => void): void;
    setErrorLevel(level: 'L' | 'M' | 'Q' | 'H'): void;
  }
  const qrcode: QrcodeTerminal;
  export default qrcode;
}
