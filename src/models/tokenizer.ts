// GPT-2's byte-level BPE, from js-tiktoken's `gpt2` ranks (the same 50,257-token vocabulary as the
// Hugging Face GPT-2 tokenizer). The ranks (~0.5 MB) are loaded on first use.
import { Tiktoken } from 'js-tiktoken/lite';

export class GPT2Tokenizer {
  /** <|endoftext|> */
  static readonly EOT = 50256;

  private constructor(private readonly bpe: Tiktoken) {}

  static async load(): Promise<GPT2Tokenizer> {
    const ranks = (await import('js-tiktoken/ranks/gpt2')).default;
    return new GPT2Tokenizer(new Tiktoken(ranks));
  }

  encode(text: string): number[] {
    return this.bpe.encode(text, 'all');
  }

  decode(ids: readonly number[]): string {
    return this.bpe.decode([...ids]);
  }
}
