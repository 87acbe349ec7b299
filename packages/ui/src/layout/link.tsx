import { useAtomValue, useSetAtom } from 'jotai';
import type { ReactNode } from 'react';
import { locationAtom, navigateAtom } from '../atoms/route.ts';

/** A link that changes page without reloading. */
export function Link(props: {
  readonly to: string;
  readonly children: ReactNode;
  readonly className?: string;
}) {
  const navigate = useSetAtom(navigateAtom);
  const location = useAtomValue(locationAtom);
  return (
    <a
      href={props.to}
      className={props.className}
      aria-current={location.pathname === props.to ? 'page' : undefined}
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(props.to);
      }}
    >
      {props.children}
    </a>
  );
}
