import sharp from 'sharp';

export interface Thumbnail {
  data: Buffer;
  width: number;
  height: number;
}

export type MakeThumbnail = (file: string) => Promise<Thumbnail>;

/**
 * A JPEG no larger than `px` on its longest side, turned upright by its EXIF orientation.
 * Images over 40 megapixels are refused before they are decoded (a stranger's file).
 */
export function sharpThumbnail(px: number): MakeThumbnail {
  return async (file) => {
    const { data, info } = await sharp(file, { limitInputPixels: 40_000_000, failOn: 'error' })
      .rotate()
      .resize(px, px, { fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 70 })
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  };
}
